package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.List;

/**
 * Who releases the waits the runtime makes on its private wait queues, found without the scenario's
 * help: a {@code flush_work} (the item's flush wait queue), a {@code flush_workqueue} (the queue's),
 * a mempool allocation waiting for a freed element, a worker's creation (kthreadd completes it), and
 * a wait queue or completion whose owner is a {@link HandedOnEvent} (a bio: {@link HandedOnReleasers}).
 *
 * <p>A wait queue's {@link WaitQueue#owner()} names the structure it belongs to, and is used when set.
 * Until every owner is set, the queues are recognised by the names and classes core gives them:
 * {@code (work_completion)<item>}, {@code (wq_completion)<queue>} of class {@code wq_completion}, and
 * class {@code mempool}; an item is then found by name among the items in flight.
 */
final class RuntimeReleasers {

    private RuntimeReleasers() {
    }

    private static final String WORK_FLUSH = Work.CLASS_PREFIX;
    private static final String QUEUE_FLUSH = WorkQueue.CLASS_PREFIX;

    /** What the runtime knows of who releases {@code p} in {@code system}; empty when nothing. */
    static List<Releaser> of(Primitive p, RescuerSystem system) {
        List<Releaser> out = new ArrayList<>();
        Workqueues wqs = system != null && system.hasWorkqueues() ? system.workqueues() : null;
        if ("kthread_create".equals(p.lockClass()) && wqs != null) {
            out.add(new Releaser("kthreadd, which creates the thread:", wqs.kthreaddTask()));
            return out;
        }
        Object owner = p instanceof WaitQueue ? ((WaitQueue) p).owner()
                : p instanceof Completion ? ((Completion) p).owner() : null;
        if (owner instanceof HandedOnEvent) {
            out.addAll(HandedOnReleasers.of((HandedOnEvent) owner, wqs));
            return out;
        }
        if (!(p instanceof WaitQueue)) {
            return out;
        }
        if (owner instanceof Mempool) {
            out.addAll(Releaser.forMempool((Mempool<?>) owner));
        } else if (owner instanceof Work && wqs != null) {
            out.addAll(flushOf((Work) owner, wqs));
        } else if (owner instanceof WorkQueue && wqs != null) {
            out.addAll(Releaser.forQueue(wqs, (WorkQueue) owner));
        } else if (owner == null) {
            out.addAll(byName(p, wqs));
        }
        return out;
    }

    private static List<Releaser> flushOf(Work item, Workqueues wqs) {
        List<Releaser> out = new ArrayList<>();
        for (Releaser r : Releaser.forWork(wqs, item)) {
            out.add(new Releaser("flush of " + r.via(), r.task()));
        }
        return out;
    }

    /**
     * The fallback for a wait queue whose owner is not set: recognise it by the name core gives it.
     * {@code wqs} is {@code null} in a system without workqueues.
     */
    private static List<Releaser> byName(Primitive p, Workqueues wqs) {
        String name = p.name();
        List<Releaser> out = new ArrayList<>();
        if ("mempool".equals(p.lockClass())) {
            out.add(Releaser.note(name + ": released when a holder frees an element"));
        } else if (wqs == null) {
            return out;
        } else if ("wq_completion".equals(p.lockClass()) && name.startsWith(QUEUE_FLUSH)) {
            String queue = name.substring(QUEUE_FLUSH.length());
            for (WorkQueue wq : wqs.queues()) {
                if (wq.name().equals(queue)) {
                    out.addAll(Releaser.forQueue(wqs, wq));
                }
            }
        } else if (name.startsWith(WORK_FLUSH) && name.equals(p.lockClass())) {
            String item = name.substring(WORK_FLUSH.length());
            List<Work> seen = new ArrayList<>();
            for (WorkQueue wq : wqs.queues()) {
                for (Work w : wqs.inFlight(wq)) {
                    if (w.name().equals(item) && seen.stream().noneMatch(s -> s == w)) {
                        seen.add(w);
                        out.addAll(flushOf(w, wqs));
                    }
                }
            }
            if (out.isEmpty()) {
                out.add(Releaser.note("work " + item + " (not in flight)"));
            }
        }
        return out;
    }
}
