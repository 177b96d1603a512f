package dev.rescuer.core.wq;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * <p><b>The inbox.</b> A queue that {@linkplain #usesInbox() uses it} (per-CPU, not ordered, not BH,
 * not freezable) lets producers queue without the pool lock: {@link #push} links the item onto a
 * lock-free stack ({@code inbox}, a Treiber stack through {@link Work#next}, which is free while the
 * item is on no list), and whoever next holds the pool lock and looks at this pwq's state moves the
 * stack, oldest first, onto the worklist or the inactive list with {@link #insert}
 * ({@link #drainInbox}). Flush colors, {@code max_active}, the queueing count and the watchdog stamp
 * are all applied then, under the lock, exactly as on the locked path. The head word is one of:
 * <ul>
 *   <li>{@code null}: nobody will look. A producer whose push lands on it must take the pool lock
 *       and drain (and kick) itself before it returns.
 *   <li>{@link #WATCHED}: empty, and a worker of the pool will take the lock again and drain it
 *       before it sleeps ({@link WorkerPool#workerComing()}: one is counted as running, or an idle
 *       one, the first on the idle list, has been kicked); the pwq is on {@code pool.watched}. A
 *       push onto it, or onto a stack whose bottom is it, needs no lock and no kick: on the locked
 *       path the item would wait for that same worker. Set only by a drain under the lock that
 *       sees a worker coming; wherever
 *       that may stop being so under the lock (every decrement of {@code nrRunning}, a worker
 *       entering idle, a reap: {@link WorkerPool#unwatchIfNobodyComes()}) every watched inbox goes
 *       back to {@code null}, linking what it held, which kicks as a queueing would.
 *   <li>{@link #CLOSED}: draining, destroying or destroyed, or the subsystem is closing (and for
 *       good where the queue does not {@linkplain #usesInbox() use the inbox}): producers
 *       take the locked path, whose refusal test runs under the lock ({@link #closeInbox}).
 *   <li>A stack of pushed items whose bottom link is {@code null} or {@code WATCHED}, as above.
 * </ul>
 * Every task that holds the pool lock and reads this pwq's items or counters drains first: the worker
 * loop (at its top and after each item), the locked queueing path (so one producer's items stay in
 * order), {@code grab_pending} and {@code flush_work} ({@link Work}), a queue's flush (before its
 * color advances, so an item pushed before the flush took its color gets the old one, and in each
 * drained-color check), drain, destroy and close (by closing), {@code setMaxActive} and thaw,
 * {@code congested}, the mayday timer, the rescuer, the watchdog, the dumps, the statistics and the
 * hang-report snapshots ({@code Workqueues.status}, {@code activeAhead}, {@code inFlight}). The
 * sleep hook and the CPU-intensive tick do not read the inbox: they drop the running count, which
 * unwatches (and so links) when no other worker comes.
 *
 * <p>Memory ordering of the inbox. Every change of {@code inbox} is a compare-and-set or get-and-set,
 * each a full fence, so the pushes, drains, watches, unwatches and closes of one pwq are totally
 * ordered on that one word: a push either lands before an unwatch or close (which then returns and
 * links it) or reads its result ({@code null}: drain yourself; {@code CLOSED}: take the locked path).
 * Whether a worker comes is decided under the pool lock from {@code nrRunning} and the first idle
 * worker's volatile {@code kicked}: {@code nrRunning} drops only under that lock, and each drop
 * re-decides (the wake hook's lock-free change is an increment, which only adds a worker that
 * comes back to the lock); {@code kicked} is set under the lock by every waker and cleared by the
 * worker itself after its idle sleep returns and before it takes the lock for the loop's top, which
 * drains: so a {@code true} read under the lock means that drain is still to come. A worker told
 * to die skips that drain, but only a close leaves one on the idle list, and a close has closed
 * every inbox first. The producer's stores to the item ({@code next}, {@code pwq}, and everything
 * before the {@code queue} call) happen before its CAS, the drainer's get-and-set reads that CAS's
 * value, and the item runs after the drainer's unlock: so stores before a {@code queue} are still
 * visible to the run it causes.
 *
 * <p>Locking legend: {@code PL} = guarded by {@code pool.lock} (asserted in every accessor with
 * assertions on); {@code MD} = guarded by the mayday lock of the rescuer serving the queue (its own or
 * its domain's); {@code IB} = changed only through {@code INBOX} (CAS or get-and-set), see above;
 * {@code I} = fixed at construction.
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

    /** The head of the inbox: {@code null}, {@link #WATCHED}, {@link #CLOSED} or a stack of items. */
    private volatile Work inbox;                       // IB
    /** Whether producers may push onto the inbox at all; fixed by the queue's kind. */
    private final boolean usesInbox;                   // I
    /** Whether this pwq is on {@code pool.watched} (its inbox may be {@link #WATCHED}). */
    boolean onWatched;                                 // PL

    /** The inbox's "a coming worker will drain me" marker; never queued. */
    static final Work WATCHED = new Work("(inbox watched)", () -> { });
    /** The inbox's "take the locked path" marker; never queued. */
    static final Work CLOSED = new Work("(inbox closed)", () -> { });

    private static final VarHandle INBOX;

    static {
        try {
            INBOX = MethodHandles.lookup().findVarHandle(PoolWorkqueue.class, "inbox", Work.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    PoolWorkqueue(WorkQueue wq, WorkerPool pool, boolean usesInbox) {
        this.wq = wq;
        this.pool = pool;
        this.inactive = new WorkList(pool);
        this.usesInbox = usesInbox;
        this.inbox = usesInbox ? null : CLOSED;
    }

    /** Whether producers of this pwq's queue may queue without the pool lock (see the class comment). */
    boolean usesInbox() {
        return usesInbox;
    }

    /**
     * Pushes an item whose PENDING bit the caller owns onto the inbox, without the pool lock. The
     * caller has set {@code work.pwq} to this pwq.
     *
     * @return {@code 1} if it landed where a coming worker will drain it (nothing more to do), {@code 0} if
     *     it landed on an unwatched inbox (the caller must {@link #drainInbox} and kick under the pool
     *     lock before it returns), {@code -1} if the inbox is closed (nothing pushed: take the locked path)
     */
    int push(Work work) {
        Work h = inbox;
        while (true) {
            if (h == CLOSED) {
                return -1;
            }
            work.next = h;
            Work seen = (Work) INBOX.compareAndExchange(this, h, work);
            if (seen == h) {
                return h == null ? 0 : 1;
            }
            h = seen;
        }
    }

    /**
     * Moves the inbox's items, oldest first, onto the worklist or the inactive list ({@link #insert},
     * counting each as queued on the pool, kicking as a queueing does), and leaves the inbox
     * {@link #WATCHED} if a worker of the pool is {@linkplain WorkerPool#workerComing() coming}
     * (registering it on {@code pool.watched}), else {@code null}. A closed inbox is left as it is. PL.
     */
    void drainInbox() {
        if (usesInbox) {
            drainInbox(false, pool.platform.nanoTime());
        }
    }

    /**
     * {@link #drainInbox()}, or with {@code byWorkerLoop} by a worker in its loop
     * ({@link WorkerPool#drainInboxes(boolean, long)}): that worker is coming, so the inbox stays
     * watched, and what it links kicks nobody. PL.
     *
     * @param now the platform time, read by the caller with no scheduling point since: the
     *     watchdog's stamp if an item lands on an empty worklist
     */
    void drainInbox(boolean byWorkerLoop, long now) {
        if (!usesInbox) {
            return;
        }
        assert locked();
        boolean watch = byWorkerLoop || pool.workerComing();
        Work h = inbox;
        if (h == CLOSED || (h == WATCHED && watch && onWatched) || (h == null && !watch)) {
            return; // nothing to link, nothing to change
        }
        // Only pushes race with this: CLOSED is set and cleared under the lock this task holds.
        h = (Work) INBOX.getAndSet(this, watch ? WATCHED : null);
        if (watch) {
            watchedBy(pool);
        }
        linkStack(h, !byWorkerLoop, now);
        if (!watch && pool.workerComing() && INBOX.compareAndSet(this, null, WATCHED)) {
            watchedBy(pool); // the insert kicked a worker, which drains before it idles
        }
    }

    /** Puts this pwq on the pool's watched list once. PL. */
    private void watchedBy(WorkerPool p) {
        if (!onWatched) {
            onWatched = true;
            p.watched.add(this);
        }
    }

    /** Sets the inbox back to {@code null}, linking what it held (no worker comes any more); the caller empties {@code pool.watched}. PL. */
    void unwatch() {
        assert locked();
        onWatched = false;
        Work h = inbox;
        while (h != CLOSED && h != null) {
            Work seen = (Work) INBOX.compareAndExchange(this, h, null);
            if (seen == h) {
                linkStack(h, true, pool.platform.nanoTime());
                return;
            }
            h = seen;
        }
    }

    /**
     * Closes the inbox, linking what it held: from now on producers take the locked path, whose
     * refusal test runs under this lock. For drain, destroy and the subsystem's close. PL.
     */
    void closeInbox() {
        assert locked();
        if (usesInbox) {
            linkStack((Work) INBOX.getAndSet(this, CLOSED), true, pool.platform.nanoTime());
        }
    }

    /**
     * Takes the pwq of a destroyed queue, whose inbox is closed for good, off its pool's watched
     * list, which otherwise empties only when no worker of the pool comes (a pool that never idles
     * would keep the queue reachable, and every worker drain would look at it). PL.
     */
    void retire() {
        assert locked();
        assert inbox == CLOSED : "retiring " + this + " with an open inbox";
        if (onWatched) {
            onWatched = false;
            pool.watched.remove(this);
        }
    }

    /** Opens a closed inbox again (a drain ended, or a destroy gave up). PL. */
    void reopenInbox() {
        assert locked();
        if (usesInbox) {
            INBOX.compareAndSet(this, CLOSED, null);
        }
    }

    /**
     * Whether {@code work} sits in the inbox now, pushed and not yet linked. Racy (the stack is read
     * without the lock while producers push), so for tests and debugging only.
     */
    boolean inInbox(Work work) {
        for (Work h = inbox; h != null && h != WATCHED && h != CLOSED; h = h.next) {
            if (h == work) {
                return true;
            }
        }
        return false;
    }

    /**
     * Links a stack taken off the inbox (newest first, down to its marker or {@code null}) in pushing
     * order, kicking as a queueing does if {@code kick}. PL.
     *
     * @param now the platform time, read by the caller with no scheduling point since: the
     *     watchdog's stamp if an item lands on an empty worklist
     */
    private void linkStack(Work h, boolean kick, long now) {
        Work oldestFirst = null;
        while (h != null && h != WATCHED && h != CLOSED) {
            Work below = h.next;
            h.next = oldestFirst;
            oldestFirst = h;
            h = below;
        }
        while (oldestFirst != null) {
            Work w = oldestFirst;
            oldestFirst = w.next;
            w.next = null;
            boolean active = insert(w, now, kick);
            pool.nrQueued++;
            WqEvents.queued(wq.name(), w.name(), pool.name(), active);
        }
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
        return insert(work, now, true);
    }

    /** {@link #insert(Work, long)}, kicking the pool only if {@code kick}. PL. */
    private boolean insert(Work work, long now, boolean kick) {
        assert locked();
        work.countQueueing(workColor, pool.nrQueued);
        if (work.pwq != this) {
            work.pwq = this; // the inbox's producer set it already: spare the volatile store's fence
        }
        nrInFlight[workColor]++;
        if (nrActive < wq.effectiveMaxActive() && inactive.isEmpty()) {
            nrActive++;
            if (kick) {
                pool.insertWork(work, now);
            } else {
                pool.appendWork(work, now);
            }
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
        return decNrInFlight(work.color(), wasActive);
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
