package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkStatus;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.List;

/**
 * Who can release an event a task waits for, as a scenario declares it for the wait-for report:
 * {@code via} says how (for example "work writeback#3, pending on workqueue writeback; its rescuer
 * is"), {@code task} is the task that would have to act, or {@code null} when none is known (the chain
 * ends there).
 */
public record Releaser(String via, Task task) {

    /** The task itself releases the event. */
    public static Releaser task(Task t) {
        return new Releaser("", t);
    }

    /** Something that is not a task (a device, a finished item); ends a chain. */
    public static Releaser note(String what) {
        return new Releaser(what, null);
    }

    /**
     * Who can make {@code item} finish: the task running it; or, while it is pending, the queue's
     * rescuer and the pool's manager (creating the worker it waits for), in that order.
     */
    public static List<Releaser> forWork(Workqueues workqueues, Work item) {
        WorkStatus st = workqueues.status(item);
        String what = "work " + item.name() + (st.queue() == null ? "" : " on workqueue " + st.queue());
        if (st.runningOn() != null) {
            return List.of(new Releaser(what + ", running in", st.runningOn()));
        }
        if (!st.pending()) {
            return List.of(note(what + " (not queued)"));
        }
        List<Releaser> out = new ArrayList<>();
        if (st.rescuer() != null) {
            out.add(new Releaser(what + ", pending; its rescuer is", st.rescuer()));
        }
        if (st.poolManager() != null) {
            out.add(new Releaser(what + ", pending: no idle worker; creating one is", st.poolManager()));
        }
        if (out.isEmpty()) {
            out.add(note(what + ", pending"));
        }
        return out;
    }
}
