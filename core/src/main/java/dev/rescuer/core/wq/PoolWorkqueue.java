package dev.rescuer.core.wq;

import java.util.ArrayList;
import java.util.List;

/**
 * The link between one workqueue and one pool (the kernel's {@code pool_workqueue}): it enforces the
 * queue's {@code maxActive} on that pool with an inactive list, and counts items in flight per flush
 * color so that {@link WorkQueue#flush()} can wait for exactly the items queued before it.
 *
 * <p>The struct keeps its own invariants, as {@code workqueue.c} keeps {@code pwq_activate_work},
 * {@code pwq_dec_nr_in_flight} and the flush-color bookkeeping beside it:
 * <ul>
 *   <li>{@code nrActive} is the number of this pwq's items on the pool's worklist, on a worker's
 *       scheduled list or running; it never exceeds the queue's effective {@code maxActive} except
 *       transiently after {@link WorkQueue#setMaxActive} lowers it (as in the kernel, the excess
 *       drains by completion).
 *   <li>Items wait on {@code inactive} only while {@code nrActive} is at the limit, in queueing order.
 *   <li>{@code nrInFlight[c]} counts the items of color {@code c} from queueing until they finish or
 *       are cancelled; new items take {@code workColor}.
 * </ul>
 *
 * <p>Locking legend: {@code PL} = guarded by {@code pool.lock} (asserted in every accessor with
 * assertions on); {@code MD} = guarded by the mayday lock of the rescuer serving the queue (its own or its domain's).
 */
final class PoolWorkqueue {

    /** The kernel's {@code WORK_NR_COLORS}: how many flushes can be in progress on a queue at once, plus one. */
    static final int NR_COLORS = 16;

    final WorkQueue wq;
    final WorkerPool pool;

    private int nrActive;                              // PL
    private final WorkList inactive;                   // PL
    private final int[] nrInFlight = new int[NR_COLORS]; // PL
    private int workColor;                             // PL; written by flushers under the queue's flush mutex too
    /** Whether this pwq is on its queue's mayday list. */
    boolean onMayday;                                  // MD

    PoolWorkqueue(WorkQueue wq, WorkerPool pool) {
        this.wq = wq;
        this.pool = pool;
        this.inactive = new WorkList(pool);
    }

    private boolean locked() {
        return pool.lock.isHeldByCurrentThread();
    }

    /**
     * Links an item whose PENDING bit the caller owns: it takes the current work color and becomes
     * active on the pool's worklist if the limit allows, else waits on the inactive list
     * ({@code __queue_work}'s second half with {@code insert_work}). PL.
     *
     * @param now the platform time, read by the caller just before it took the lock, for the
     *     watchdog's progress stamp if the item lands on an empty worklist
     * @return whether it went straight to the worklist
     */
    boolean insert(Work work, long now) {
        assert locked();
        work.queueSeq++;
        work.pwq = this;
        work.color = workColor;
        nrInFlight[workColor]++;
        if (nrActive < wq.effectiveMaxActive() && inactive.isEmpty()) {
            nrActive++;
            pool.insertWork(work, now);
            return true;
        }
        inactive.append(work);
        return false;
    }

    /**
     * Moves the first inactive item to the worklist if the limit allows ({@code pwq_activate_first_inactive}).
     * The caller kicks the pool. PL.
     */
    boolean activateFirstInactive() {
        assert locked();
        if (inactive.isEmpty() || nrActive >= wq.effectiveMaxActive()) {
            return false;
        }
        Work w = inactive.pollFirst();
        nrActive++;
        pool.insertWork(w, pool.platform.nanoTime());
        WqEvents.activated(wq.name(), w.name(), pool.name());
        return true;
    }

    /** Activates inactive items up to the limit and kicks the pool (after a thaw or a raised limit). PL. */
    void activateUpToLimit() {
        assert locked();
        boolean any = false;
        while (activateFirstInactive()) {
            any = true;
        }
        if (any) {
            pool.kick();
        }
    }

    /**
     * Accounts for an item leaving this pwq, run or cancelled ({@code pwq_dec_nr_in_flight}), and
     * activates the next inactive one. PL.
     *
     * @param wasActive whether it counted in {@code nrActive} (it was not on the inactive list)
     * @return whether the item's color is now drained while it is no longer the work color, so a
     *     queue flusher waiting on it must be woken (after unlocking)
     */
    boolean decNrInFlight(int color, boolean wasActive) {
        assert locked();
        if (wasActive) {
            nrActive--;
            if (activateFirstInactive()) {
                pool.kick();
            }
        }
        nrInFlight[color]--;
        return nrInFlight[color] == 0 && color != workColor;
    }

    /** Unlinks a pending item taken back by a cancel, and accounts for it. PL. @return whether to wake flushers */
    boolean unlinkCancelled(Work work) {
        assert locked();
        boolean wasActive = work.list != inactive; // an item is inactive exactly while on this list
        work.list.remove(work);
        return decNrInFlight(work.color, wasActive);
    }

    /** Starts a new flush color: items queued from now on take {@code color} ({@code flush_workqueue_prep_pwqs}). PL. */
    void setWorkColor(int color) {
        assert locked();
        workColor = color;
    }

    /** Whether no item of {@code color} is in flight here. PL. */
    boolean colorDrained(int color) {
        assert locked();
        return nrInFlight[color] == 0;
    }

    /** Active items ({@code nr_active}). PL. */
    int nrActive() {
        assert locked();
        return nrActive;
    }

    /** Whether items wait on the inactive list ({@code workqueue_congested}'s test). PL. */
    boolean hasInactive() {
        assert locked();
        return !inactive.isEmpty();
    }

    /** The inactive items' names in order, for dumps. PL. */
    List<String> inactiveNames() {
        assert locked();
        List<String> names = new ArrayList<>();
        for (Work w = inactive.first(); w != null; w = w.next) {
            names.add(w.name());
        }
        return names;
    }

    /** Whether {@code work} waits on this pwq's inactive list. PL. */
    boolean isInactive(Work work) {
        assert locked();
        return work.list == inactive;
    }

    /** Appends the inactive items in order, for reports. PL. */
    void addInactive(List<Work> out) {
        assert locked();
        for (Work w = inactive.first(); w != null; w = w.next) {
            out.add(w);
        }
    }

    /** Whether nothing of this queue is queued, inactive or running on the pool. PL. */
    boolean isIdle() {
        assert locked();
        if (nrActive != 0 || !inactive.isEmpty()) {
            return false;
        }
        for (int c : nrInFlight) {
            if (c != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "pwq(" + wq.name() + " on " + pool.name() + ")";
    }
}
