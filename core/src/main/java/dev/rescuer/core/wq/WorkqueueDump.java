package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;

import java.util.ArrayList;
import java.util.List;

/**
 * {@link Workqueues#dump()}: the kernel's {@code show_all_workqueues()} for one subsystem. Each pool
 * is read under its own lock, one at a time, so the dump is consistent per pool, not across pools.
 */
final class WorkqueueDump {

    private WorkqueueDump() {
    }

    static String dump(Workqueues sys, java.util.Collection<WorkQueue> queues) {
        Platform platform = sys.platform();
        long now = platform.nanoTime();
        StringBuilder sb = new StringBuilder("Showing busy workqueues and worker pools:\n");
        List<WorkQueue> sorted = new ArrayList<>(queues);
        sorted.sort(java.util.Comparator.comparing(WorkQueue::name));
        for (WorkQueue wq : sorted) {
            StringBuilder q = new StringBuilder();
            for (PoolWorkqueue pwq : wq.pwqs()) {
                WorkerPool p = pwq.pool;
                p.lock.lock();
                try {
                    pwq.drainInbox();
                    if (pwq.isIdle()) {
                        continue;
                    }
                    q.append("  pwq ").append(p.describe()).append(" active=").append(pwq.nrActive()).append('/')
                            .append(wq.maxActive() == Integer.MAX_VALUE ? "-" : String.valueOf(wq.maxActive()))
                            .append(pwq.onMayday ? " [MAYDAY]" : "").append('\n');
                    List<Worker> busy = p.busyWorkersByName();
                    List<String> inFlight = new ArrayList<>();
                    for (Worker w : busy) {
                        if (w.currentPwq == pwq) {
                            inFlight.add(w.name + (w.rescuer ? "(RESCUER)" : "") + ":" + w.currentWork.name() + " for "
                                    + seconds(now - w.currentStartNanos) + (w.blockedOutside ? " (blocked outside the platform)" : ""));
                        }
                    }
                    appendList(q, "in-flight", inFlight);
                    List<String> pending = new ArrayList<>();
                    for (Work w = p.worklist.first(); w != null; w = w.next) {
                        if (w.pwq == pwq) {
                            pending.add(w.name());
                        }
                    }
                    for (Worker w : busy) {
                        for (Work s = w.scheduled.first(); s != null; s = s.next) {
                            if (s.pwq == pwq) {
                                pending.add(s.name());
                            }
                        }
                    }
                    appendList(q, "pending", pending);
                    appendList(q, "inactive", pwq.inactiveNames());
                } finally {
                    p.lock.unlock();
                }
            }
            if (q.length() > 0) {
                sb.append("workqueue ").append(wq.name()).append(": flags=").append(wq.flags())
                        .append(wq.isOrdered() ? " ordered" : "").append('\n').append(q);
            }
        }
        for (WorkerPool p : sys.allPools()) {
            p.lock.lock();
            try {
                p.drainInboxes();
                if (p.worklist.isEmpty() && p.busyHash.isEmpty()) {
                    continue;
                }
                sb.append("pool ").append(p.describe()).append(" hung=")
                        .append(p.worklist.isEmpty() ? "0s" : seconds(now - p.lastProgressNanos))
                        .append(" workers=").append(p.nrWorkers());
                if (p.manager != null) {
                    sb.append(" manager: ").append(p.manager.name);
                }
                if (!p.idleList.isEmpty()) {
                    sb.append(" idle:");
                    for (Worker w : p.idleList) {
                        sb.append(' ').append(w.name);
                    }
                }
                sb.append('\n');
            } finally {
                p.lock.unlock();
            }
        }
        return sb.toString();
    }

    private static void appendList(StringBuilder sb, String label, List<String> items) {
        if (!items.isEmpty()) {
            sb.append("    ").append(label).append(": ").append(String.join(", ", items)).append('\n');
        }
    }

    /** A duration for dumps: whole seconds from 10 s up, milliseconds below. */
    static String seconds(long nanos) {
        return nanos >= 10_000_000_000L ? (nanos / 1_000_000_000L) + "s" : String.format("%.3fs", nanos / 1e9);
    }

}
