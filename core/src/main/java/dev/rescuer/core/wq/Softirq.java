package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;

/**
 * One CPU's softirq context, which runs the items of that CPU's two BH pools (high priority first),
 * like the kernel's {@code workqueue_softirq_action}. Items run in atomic context, at most
 * {@link #MAX_ITEMS} per pool per pass ({@code BH_WORKER_RESTARTS}); leftovers raise the softirq again.
 * A BH pool has a single execution context per CPU, so its items never run concurrently with each other.
 */
final class Softirq {

    static final int MAX_ITEMS = 10;

    private final Platform platform;
    private final WorkerPool normal;
    private final WorkerPool high;
    private volatile boolean raised;
    private volatile boolean stopping;
    private final Task task;
    private final Primitive idleWait;

    Softirq(Workqueues sys, int cpu, WorkerPool normal, WorkerPool high) {
        this.platform = sys.platform();
        this.normal = normal;
        this.high = high;
        String name = "ksoftirqd/" + cpu;
        this.idleWait = new IdleWait(name, "softirq idle");
        this.task = sys.kthreadd().create(name, this::run);
        normal.bhWorker.task = task;
        high.bhWorker.task = task;
    }

    /** Marks work pending and wakes the context. Never sleeps. */
    void raise() {
        if (!raised) {
            raised = true;
            platform.wake(task);
        }
    }

    private void run() {
        while (true) {
            platform.await(idleWait, () -> raised || stopping, Platform.NO_DEADLINE);
            raised = false;
            runPool(high);
            runPool(normal);
            if (stopping) {
                return;
            }
        }
    }

    private void runPool(WorkerPool pool) {
        Worker bh = pool.bhWorker;
        pool.lock.lock();
        try {
            for (int n = 0; n < MAX_ITEMS && !pool.worklist.isEmpty(); n++) {
                if (bh.assignWork(pool.worklist.first())) {
                    bh.processScheduledWorks();
                }
            }
            if (!pool.worklist.isEmpty()) {
                raised = true;
            }
        } finally {
            pool.lock.unlock();
        }
    }

    void stop() {
        stopping = true;
        platform.wake(task);
        if (platform.currentTask() != task) {
            platform.join(task);
        }
    }
}
