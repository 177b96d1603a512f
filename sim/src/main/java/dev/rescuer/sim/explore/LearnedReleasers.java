package dev.rescuer.sim.explore;

import dev.rescuer.check.Signallers;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who releases an event wait, learned from the run's {@link Signallers signal log} rather than
 * declared by the scenario. The definition (also in {@code docs/VALIDATOR.md}):
 *
 * <ol>
 *   <li>The signallers are those of the very instance waited on, if it was ever signalled in this
 *       run; otherwise those of any instance of its class.
 *   <li>A signaller that was running a work item stands for that item's class: the releasers are
 *       whoever can finish each item of that class now in flight ({@link Releaser#forWork}: its
 *       runner, or the rescuer and the pool's manager while it waits for a worker, or the items
 *       ahead of it under {@code max_active}). With none in flight, a note ends the chain.
 *   <li>A signaller task that was not running an item is a releaser itself while it lives; one that
 *       has exited, and the timer context (which task's timer it was is not recorded), end the chain
 *       with a note.
 *   <li>The waiter itself is never its own learned releaser: it cannot signal while it waits, and
 *       a signal it made before came from an earlier context.
 * </ol>
 * Only event waits learn: completions, semaphores (their {@code down}) and wait queues. Locks have
 * holders, and a runtime wait queue (a flush, a mempool) has exact runtime releasers.
 */
final class LearnedReleasers {

    private LearnedReleasers() {
    }

    /**
     * The learned releasers of {@code waiter}'s wait on {@code on}; empty when nothing signalled its
     * instance or class in this run.
     *
     * @param wqs the run's workqueues, or {@code null} without them
     * @param timerContext the simulator's timer context task
     */
    static List<Releaser> of(Task waiter, Primitive on, Signallers log, Workqueues wqs, Task timerContext) {
        if (log == null || !isEvent(on)) {
            return List.of();
        }
        List<Signallers.Signaller> own = log.of(on);
        boolean instance = !own.isEmpty();
        List<Signallers.Signaller> ss = instance ? own : log.ofClass(on.lockClass());
        String seen = instance ? "whoever signalled it before:" : "whoever signalled its class " + on.lockClass() + " before:";
        List<Releaser> out = new ArrayList<>();
        Set<String> itemClasses = new HashSet<>();
        Map<Task, Boolean> tasks = new IdentityHashMap<>();
        for (Signallers.Signaller s : ss) {
            if (s.workClass() != null) {
                if (itemClasses.add(s.workClass())) {
                    out.addAll(itemsOf(s, seen, wqs));
                }
            } else if (s.task() == waiter || tasks.put(s.task(), Boolean.TRUE) != null) {
                continue;
            } else if (s.task() == timerContext) {
                out.add(Releaser.note(seen + " a timer callback"));
            } else if (s.task().hasExited()) {
                out.add(Releaser.note(seen + " " + s.task() + ", which has exited"));
            } else {
                out.add(new Releaser(seen, s.task()));
            }
        }
        return out;
    }

    /** Whether a wait on {@code p} is one whose releaser is a signaller (not a holder). */
    static boolean isEvent(Primitive p) {
        switch (p.kind()) {
            case "completion":
            case "semaphore":
            case "waitqueue":
                return true;
            default:
                return false;
        }
    }

    /** Whoever can finish the items of {@code s}'s item class now in flight, or a note if none is. */
    private static List<Releaser> itemsOf(Signallers.Signaller s, String seen, Workqueues wqs) {
        String by = seen + " work " + s.workName();
        List<Releaser> out = new ArrayList<>();
        if (wqs != null) {
            Map<Work, Boolean> items = new IdentityHashMap<>();
            for (WorkQueue wq : wqs.queues()) {
                for (Work w : wqs.inFlight(wq)) {
                    if (w.lockClass().equals(s.workClass()) && items.put(w, Boolean.TRUE) == null) {
                        for (Releaser r : Releaser.forWork(wqs, w)) {
                            out.add(new Releaser(by + "; now " + r.via(), r.task()));
                        }
                    }
                }
            }
        }
        if (out.isEmpty()) {
            out.add(Releaser.note(by + "; no item of its class in flight"));
        }
        return out;
    }
}
