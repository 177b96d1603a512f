package dev.rescuer.sim.explore;

import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkStatus;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who can release an event a task waits for, as a scenario declares it or the runtime knows it, for
 * the wait-for report: {@code via} says how (for example "work writeback#3 on workqueue writeback,
 * pending; its rescuer is"), {@code task} is the task that would have to act, or {@code null} when
 * none is known (the chain ends there).
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
     * Who can make {@code item} finish: the task running it; while it is held back by the queue's
     * {@code max_active} (inactive), whoever can finish the active items ahead of it (a rescuer runs
     * only active items, so it is no releaser of an inactive one); while it is pending and active, the
     * queue's rescuer and the pool's manager (creating the worker it waits for), in that order.
     */
    public static List<Releaser> forWork(Workqueues workqueues, Work item) {
        WorkStatus st = workqueues.status(item);
        List<Work> ahead = st.runningOn() == null && st.pending() ? workqueues.activeAhead(item) : List.of();
        if (ahead.isEmpty()) {
            return forActive(item, st);
        }
        String what = "work " + item.name() + " on workqueue " + st.queue();
        List<Releaser> out = new ArrayList<>();
        for (Work a : ahead) {
            for (Releaser r : forActive(a, workqueues.status(a))) {
                out.add(new Releaser(what + ", held back by max_active behind " + r.via(), r.task()));
            }
        }
        return distinct(out);
    }

    /**
     * Who can finish an item that is not held back: its runner, or while it waits for a worker, the
     * rescuer and the manager; a note when it is not queued.
     */
    private static List<Releaser> forActive(Work item, WorkStatus st) {
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

    /**
     * Who can make a flush of {@code wq} return: whoever can finish each of its items in flight
     * ({@link #forWork}), each task once.
     */
    public static List<Releaser> forQueue(Workqueues workqueues, WorkQueue wq) {
        List<Releaser> out = new ArrayList<>();
        for (Work item : workqueues.inFlight(wq)) {
            for (Releaser r : forWork(workqueues, item)) {
                out.add(new Releaser("flush of workqueue " + wq.name() + ", in flight: " + r.via(), r.task()));
            }
        }
        if (out.isEmpty()) {
            out.add(note("workqueue " + wq.name() + ", nothing in flight"));
        }
        return distinct(out);
    }

    /**
     * Who can give an element back to {@code pool}: each task that allocated elements not yet freed
     * ({@link Mempool#holders()}), in task id order. A holder may have handed its element on (a bio to
     * a device whose interrupt frees it), so the edge says so; with no holder left this is a note with
     * the pool's counts, which ends the chain.
     */
    public static List<Releaser> forMempool(Mempool<?> pool) {
        List<Releaser> out = new ArrayList<>();
        pool.holders().forEach((task, n) -> out.add(new Releaser("mempool " + pool.name() + ": " + n
                + (n == 1 ? " element" : " elements") + " allocated, not yet freed (or handed on), by", task)));
        if (out.isEmpty()) {
            out.add(note("mempool " + pool.name() + " (" + pool.reserved() + "/" + pool.minNr() + " reserved, "
                    + pool.outstanding() + " out): released when a holder frees an element"));
        }
        return out;
    }

    /** {@code rs} with each task kept once (its first releaser) and each note once. */
    private static List<Releaser> distinct(List<Releaser> rs) {
        Map<Task, Boolean> seen = new IdentityHashMap<>();
        List<String> notes = new ArrayList<>();
        List<Releaser> out = new ArrayList<>();
        for (Releaser r : rs) {
            if (r.task() != null ? seen.put(r.task(), Boolean.TRUE) == null : !notes.contains(r.via()) && notes.add(r.via())) {
                out.add(r);
            }
        }
        return out;
    }
}
