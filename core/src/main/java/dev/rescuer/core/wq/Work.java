package dev.rescuer.core.wq;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A work item, the kernel's {@code work_struct}: a named function that a {@link WorkQueue} runs on one
 * of its workers.
 *
 * <p>Guarantees (each one the kernel's):
 * <ul>
 *   <li>An item is queued at most once at a time: {@link WorkQueue#queue} returns {@code false} while
 *       it is pending.
 *   <li>It never runs concurrently with itself anywhere in the system, provided it is always queued
 *       on the same queue. Its pending state is cleared just before it runs, so queueing it while it
 *       runs succeeds, and the new queueing runs after the current run, on the same worker.
 *   <li>Stores made before a successful {@code queue} are visible to the run it causes.
 *   <li>{@link #flush()} waits for the last queueing to finish; {@link #cancelSync()} returns with the
 *       item neither pending nor running, even if it re-queues itself; {@link #disable()} makes every
 *       queueing fail until a matching {@link #enable()}.
 * </ul>
 *
 * <p>{@link #isPending()}, {@link #isBusy()} and {@link #busy()} are advisory, as in the kernel.
 *
 * <p>Memory ordering. PENDING and the disable depth share one word, {@code state}, as the kernel
 * keeps them in {@code work->data}: bit 0 is PENDING, bits 1 to 16 the depth; every change is a
 * compare-and-set (or an atomic bitwise and) through {@code STATE}, each a full fence. Whoever sets
 * PENDING owns the linkage fields until the item is on a list (after which the pool lock guards
 * them) or in a pwq's lock-free inbox (whose drainer, under the pool lock, owns them next; see
 * {@link PoolWorkqueue}), or PENDING is cleared. A queueing sets PENDING only from the all-clear word, so it fails in
 * one step if the item is pending or disabled; a disable raises the depth in the same word before it
 * grabs PENDING, so no queueing can slip in between (the kernel needs
 * {@code clear_pending_if_disabled} for that, having the two apart). {@code pwq} and
 * {@code doneSeq} are volatile: written under the pool lock, read without it by flushers and
 * cancellers, who re-check under the lock; a flusher's wait condition reads {@code doneSeq}, which
 * the finishing worker writes before it wakes {@code flushWait} (published once by a CAS).
 * {@code claimedBy} is written once, by a release store after the CAS that set PENDING, and read by
 * cancellers that retry while PENDING is set and it is still {@code null}.
 */
public class Work extends AbstractPrimitive {

    /** The start of every item's lockdep class, {@code (work_completion)<name>}, as {@code INIT_WORK} names its map. */
    public static final String CLASS_PREFIX = "(work_completion)";

    private final String name;
    /**
     * {@code (work_completion)name}, built on first use (the validator and the signal log ask for it
     * often; most items are never asked). Racy single-check: any task may build it, every build is
     * equal, and a String is safe to publish without a fence.
     */
    private String lockClass;
    private final Runnable body;

    /** {@code state}'s PENDING bit: whoever sets it owns the item until it is on a list or cleared. */
    private static final int PENDING = 1;
    /** One level of disable depth ({@code disable_work}) in {@code state}; queueing fails while non-zero. */
    private static final int DISABLE_ONE = 1 << 1;
    /** The deepest disable nesting, as the kernel's 16 bits of {@code WORK_OFFQ_DISABLE}. */
    private static final int DISABLE_MAX = 0xFFFF;

    /** PENDING (bit 0) and the disable depth (bits 1..16); changed only through {@code STATE}. */
    private volatile int state;

    // List linkage and queue state, guarded by the lock of `pwq.pool`; but `next` is also the link of
    // a pwq's lock-free inbox, written without the lock by the task that owns PENDING before its push
    // (see PoolWorkqueue: the drainer's get-and-set reads that push's CAS).
    WorkList list;
    Work prev;
    Work next;
    /**
     * The item's queueings in one word, so that it stays at 72 bytes: bits 0 to 3 the flush color of
     * the current or last queueing, bits 4 to 9 its bucket in a pool's {@link BusyHash} (chosen at
     * the first queueing, with {@code BUCKET_CHOSEN}), and from bit 11 up the count of successful
     * queueings (the queueing sequence number, 2<sup>53</sup> of them before it wraps). Written
     * only by {@link #countQueueing} under the pool lock; see there.
     */
    private long queueings;

    /** The pwq of the current or last queueing; null if never queued. */
    volatile PoolWorkqueue pwq;
    /** The queueSeq of the last queueing that finished, or was cancelled. */
    volatile long doneSeq;
    /** Created on first flush; woken when a queueing finishes. */
    volatile WaitQueue flushWait;
    /**
     * The subsystem of the first queueing, recorded by the PENDING owner right after it claimed the
     * bit, before the item is linked: so that a canceller can find the subsystem (and retry there)
     * while that queueing is half way.
     */
    volatile Workqueues claimedBy;

    /**
     * The queue of the item's current or last queueing, or {@code null} if it was never queued. Read
     * racily (the validator and reports); it changes only when the item is queued again.
     */
    public WorkQueue workqueue() {
        PoolWorkqueue p = pwq;
        return p == null ? null : p.wq;
    }

    /**
     * A work item that runs {@code body}.
     *
     * @param name for reports, such as {@code "kcopyd_work"} or {@code "md_submit_flush_data"}
     */
    public Work(String name, Runnable body) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a work item needs a non-blank name");
        }
        if (body == null) {
            throw new NullPointerException("body");
        }
        this.name = name;
        this.body = body;
    }

    /**
     * A work item whose subclass (in this package) overrides {@link #run()} instead of giving a body:
     * the executor service's tasks, which are their own items.
     */
    Work(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a work item needs a non-blank name");
        }
        this.name = name;
        this.body = null;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lockClass() {
        String c = lockClass;
        if (c == null) {
            c = CLASS_PREFIX + name;
            lockClass = c;
        }
        return c;
    }

    @Override
    public String kind() {
        return "work";
    }

    /** The item's function; overridden by the package's own subclasses that have no body. */
    void run() {
        body.run();
    }

    private static final VarHandle FLUSH_WAIT;
    private static final VarHandle STATE;
    private static final VarHandle CLAIMED_BY;

    static {
        try {
            FLUSH_WAIT = MethodHandles.lookup().findVarHandle(Work.class, "flushWait", WaitQueue.class);
            STATE = MethodHandles.lookup().findVarHandle(Work.class, "state", int.class);
            CLAIMED_BY = MethodHandles.lookup().findVarHandle(Work.class, "claimedBy", Workqueues.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The wait queue flushers of this item sleep on, created on first use. */
    WaitQueue flushWait(Platform platform) {
        WaitQueue fw = flushWait;
        if (fw == null) {
            fw = new WaitQueue(platform, CLASS_PREFIX + name, CLASS_PREFIX + name);
            if (!FLUSH_WAIT.compareAndSet(this, null, fw)) {
                fw = flushWait;
            }
        }
        return fw;
    }

    /** Whether the item is queued and has not started ({@code work_pending}). Advisory. */
    public boolean isPending() {
        return (state & PENDING) != 0;
    }

    // ---- the state word ----

    /**
     * Sets PENDING for a queueing ({@code test_and_set_bit} with {@code clear_pending_if_disabled}):
     * only from the all-clear word, so it fails if the item is pending or disabled.
     *
     * @return whether the caller now owns PENDING
     */
    boolean claimForQueue() {
        return state == 0 && STATE.compareAndSet(this, 0, PENDING);
    }

    /** Sets PENDING whatever the disable depth, for a grab. @return whether the caller now owns it */
    private boolean claimForGrab() {
        while (true) {
            int s = state;
            if ((s & PENDING) != 0) {
                return false;
            }
            if (STATE.compareAndSet(this, s, s | PENDING)) {
                return true;
            }
        }
    }

    /**
     * Records the subsystem of the item's first queueing; called by the PENDING owner. A release
     * store, not a volatile one (no store-load fence on the queueing path): the only reader,
     * {@link #ownerForGrab()}, retries until it sees the value, so it needs the value to become
     * visible, with the stores before it, not a total order with its own reads.
     */
    void recordClaimedBy(Workqueues sys) {
        if (claimedBy == null) {
            CLAIMED_BY.setRelease(this, sys);
        }
    }

    private static final int COLOR_MASK = PoolWorkqueue.NR_COLORS - 1;
    private static final int COLOR_BITS = Integer.bitCount(COLOR_MASK);
    private static final int BUCKET_CHOSEN = 1 << (COLOR_BITS + BusyHash.KEY_BITS);
    private static final int SEQ_SHIFT = COLOR_BITS + BusyHash.KEY_BITS + 1;

    /**
     * Counts a successful queueing with its flush color (the caller owns PENDING and holds the pool
     * lock). The first queueing also fixes the item's busy-hash bucket, from {@code seed} (the pool's
     * queueing count: deterministic, and spread over successive items); it never changes after that,
     * so the bucket an item was added to its pool's busy hash under is the one it is found and
     * removed under, whatever queueings happen meanwhile. A racy read of the word under another
     * pool's lock (an item running on one queue's pool and queued on another queue's) sees the
     * bucket right even if the word tore: the bucket bits are the same in the old and the new value.
     */
    void countQueueing(int color, long seed) {
        long v = queueings;
        if ((v & BUCKET_CHOSEN) == 0) {
            v |= BUCKET_CHOSEN | ((seed & (BusyHash.BUCKETS - 1)) << COLOR_BITS);
        }
        queueings = ((v & ~COLOR_MASK) | color) + (1L << SEQ_SHIFT);
    }

    /** The number of successful queueings so far: the sequence number of the current or last one. Under the pool lock. */
    long queueSeq() {
        return queueings >>> SEQ_SHIFT;
    }

    /** The flush color of the current or last queueing. Under the lock of {@code pwq.pool}. */
    int color() {
        return (int) queueings & COLOR_MASK;
    }

    /** The item's bucket in a pool's {@link BusyHash}: fixed from its first queueing on, 0 before it. */
    int busyHashKey() {
        return (int) (queueings >>> COLOR_BITS) & (BusyHash.BUCKETS - 1);
    }

    /** Clears PENDING, which the caller owns; leaves the disable depth as it is. */
    void clearPending() {
        STATE.getAndBitwiseAnd(this, ~PENDING);
    }

    /** Whether the item is pending or running. Advisory. */
    public boolean isBusy() {
        if (isPending()) {
            return true;
        }
        PoolWorkqueue p = pwq;
        return p != null && p.pool.isExecuting(this);
    }

    /**
     * Whether the item is pending and whether it is running ({@code work_busy}); both may hold at
     * once (queued again while it runs). Advisory and racy, as the kernel says: the answer may be
     * stale by the time it is used; for debugging and statistics only.
     */
    public java.util.Set<WorkBusy> busy() {
        java.util.EnumSet<WorkBusy> s = java.util.EnumSet.noneOf(WorkBusy.class);
        if (isPending()) {
            s.add(WorkBusy.PENDING);
        }
        PoolWorkqueue p = pwq;
        if (p != null && p.pool.isExecuting(this)) {
            s.add(WorkBusy.RUNNING);
        }
        return s;
    }

    /** Wakes tasks flushing this item; a queueing of it finished or was cancelled. No pool lock held. */
    void wakeFlushers() {
        WaitQueue fw = flushWait;
        if (fw != null) {
            fw.wakeUpAll();
        }
    }

    /**
     * Waits until the last queueing of this item has finished ({@code flush_work}). Returns at once
     * if it is neither pending nor running.
     *
     * @return whether it had to wait
     * @throws IllegalStateException if called from this item's own run, which could never finish
     */
    public boolean flush() {
        Workqueues sys = owner();
        if (sys == null) {
            return false;
        }
        Task self = sys.platform().currentTask();
        refuseWaitFromOwnRun(self, "flush_work");
        self.checkMaySleep(this, "flush_work");
        return flushWork(sys, self, true, false);
    }

    /**
     * Refuses, before anything changes, a wait for this item from its own run: {@code op} would
     * wait for the run that is making the call, which can never finish. The kernel deadlocks there
     * ({@code start_flush_work} finds the item on its own worker and waits on a barrier behind it),
     * after a cancel has already taken a pending re-queue or a flush has fired the timer; here the
     * call throws and the item stays as it was: pending, enabled, its timer armed.
     *
     * @param op the kernel's name of the call, for the message
     * @throws IllegalStateException if {@code self} is the worker running this item
     */
    void refuseWaitFromOwnRun(Task self, String op) {
        Worker cur = Workqueues.currentWorker(self);
        if (cur != null && cur.currentWork == this) {
            throw new IllegalStateException(op + " of work " + name + " from its own run in " + cur.name + " can never finish");
        }
    }

    /** The subsystem this item was last queued (or armed) on, or {@code null} if never. */
    Workqueues owner() {
        PoolWorkqueue p = pwq;
        return p == null ? claimedBy : p.wq.system();
    }

    /**
     * Like {@link #owner()}, for taking PENDING ({@code work_grab_pending}'s retry): an item's first
     * queueing sets PENDING and then, with no scheduling point in between, records its subsystem in
     * {@code claimedBy}; wait out that instant, after which the subsystem's grab retries (with
     * {@code cpuRelax}, so a simulator runs the queuer) until the item is linked or armed.
     */
    Workqueues ownerForGrab() {
        Workqueues sys = owner();
        while (sys == null && isPending()) {
            Thread.onSpinWait(); // two plain instructions of the claiming task; no scheduling point there
            sys = owner();
        }
        return sys;
    }

    /**
     * Takes the item off its queue if it is pending, without waiting for a running instance
     * ({@code cancel_work}). Never sleeps.
     *
     * @return whether it was pending
     */
    public boolean cancel() {
        Workqueues sys = ownerForGrab();
        return sys != null && grabAndRelease(sys.platform());
    }

    /**
     * Cancels the item and waits for a running instance to finish ({@code cancel_work_sync}). Wins
     * against an item that re-queues itself: on return it is neither pending nor running, unless
     * another task queues it concurrently. For an item last queued on a BH queue it may be called
     * from BH context, where it busy-waits for a running instance ({@code WORK_OFFQ_BH}); otherwise
     * it sleeps, and throws {@link dev.rescuer.core.platform.AtomicContextException} in atomic context.
     *
     * @return whether it was pending
     * @throws IllegalStateException if called from this item's own run, which could never finish; the
     *     item is left as it was (a pending re-queue stays queued)
     */
    public boolean cancelSync() {
        Workqueues sys = ownerForGrab();
        return sys != null && cancelSync(sys, false);
    }

    /**
     * Increments the disable depth and cancels the item if pending ({@code disable_work}); until a
     * matching {@link #enable()}, queueing it returns {@code false}. Does not wait for a running instance.
     *
     * @return whether it was pending
     */
    public boolean disable() {
        incDisable();
        Workqueues sys = ownerForGrab();
        return sys != null && grabAndRelease(sys.platform());
    }

    /**
     * Like {@link #disable()}, then waits for a running instance to finish ({@code disable_work_sync}).
     * This is the cancel path ({@code __cancel_work_sync} with {@code WORK_CANCEL_DISABLE}), so it is
     * not subject to {@code check_flush_dependency}, and it follows {@link #cancelSync()}'s rule for BH items.
     *
     * @return whether it was pending
     * @throws IllegalStateException if called from this item's own run, which could never finish; the
     *     item is left as it was (not disabled)
     */
    public boolean disableSync() {
        Workqueues sys = ownerForGrab();
        if (sys == null) {
            incDisable();
            return false;
        }
        return cancelSync(sys, true);
    }

    /**
     * Decrements the disable depth ({@code enable_work}).
     *
     * @return whether the item can be queued again (the depth reached zero)
     * @throws IllegalStateException if it was not disabled
     */
    public boolean enable() {
        while (true) {
            int s = state;
            if (s < DISABLE_ONE) {
                throw new IllegalStateException("enable of work " + name + ", which is not disabled");
            }
            if (STATE.compareAndSet(this, s, s - DISABLE_ONE)) {
                return s - DISABLE_ONE < DISABLE_ONE;
            }
        }
    }

    void incDisable() {
        while (true) {
            int s = state;
            if (s >>> 1 == DISABLE_MAX) {
                throw new IllegalStateException("work " + name + ": disable depth overflow");
            }
            if (STATE.compareAndSet(this, s, s + DISABLE_ONE)) {
                return;
            }
        }
    }

    /** Whether the item is disabled. */
    public boolean isDisabled() {
        return state >= DISABLE_ONE;
    }

    // ---- grab, cancel, flush: the item's own operations, on the subsystem it was queued on ----

    /**
     * Takes ownership of the PENDING bit ({@code try_to_grab_pending}).
     *
     * @return 1 if the item was pending and is now owned (taken off its timer or list), 0 if it was
     *     idle and PENDING is now owned, -1 if a queueing or timer callback is half way: retry
     */
    private int grabPending() {
        if (grabFromTimer()) {
            return 1;
        }
        if (claimForGrab()) {
            return 0;
        }
        PoolWorkqueue p = pwq;
        if (p == null) {
            return -1;
        }
        WorkerPool pool = p.pool;
        boolean wakeFlusher;
        pool.lock.lock();
        try {
            p.drainInbox(); // an item pushed onto the inbox is on a list after this
            WorkList l = list;
            if (pwq != p || l == null || l.pool != pool) {
                return -1; // being queued, or queued on another pool meanwhile: retry
            }
            wakeFlusher = p.unlinkCancelled(this);
            // The cancelled queueing counts as finished for flushers, but only once no earlier one is
            // still running: if the item runs here now, its run finishes the cancelled one too (see
            // Worker.processOneWork), so that cancelSync and flush still wait for that run.
            if (queueSeq() > doneSeq && !pool.busyHash.contains(this)) {
                doneSeq = queueSeq();
            }
        } finally {
            pool.lock.unlock();
        }
        if (wakeFlusher) {
            p.wq.wakeFlushers();
        }
        wakeFlushers();
        return 1;
    }

    /** Takes the item off its timer if it is on one; {@link DelayedWork} overrides. */
    boolean grabFromTimer() {
        return false;
    }

    /** {@link #grabPending()} until it decides, letting a half-done queueing or timer callback finish. */
    int grabPendingRetrying(Platform platform) {
        int r;
        while ((r = grabPending()) < 0) {
            platform.cpuRelax();
        }
        return r;
    }

    /** Grabs and releases PENDING ({@code cancel_work}, and {@code disable_work}'s cancel step). */
    private boolean grabAndRelease(Platform platform) {
        int r = grabPendingRetrying(platform);
        clearPending();
        return r == 1;
    }

    /**
     * {@code __cancel_work_sync}: disables the item (so a self re-queue cannot win), cancels it and
     * waits for a running instance ({@code __flush_work} with {@code from_cancel}, which skips
     * {@code check_flush_dependency}: waiting for one's own item is not a dependency on a worker).
     * An item last queued on a BH queue is waited for by busy-waiting, which is allowed in BH context
     * ({@code WORK_OFFQ_BH}); otherwise the caller must be allowed to sleep.
     *
     * @param disable whether to leave it disabled ({@code disable_work_sync}) rather than re-enable it
     */
    private boolean cancelSync(Workqueues sys, boolean disable) {
        Platform platform = sys.platform();
        Task self = platform.currentTask();
        String op = disable ? "disable_work_sync" : "cancel_work_sync";
        refuseWaitFromOwnRun(self, op);
        PoolWorkqueue last = pwq;
        boolean bh = last != null && last.pool.bh;
        if (!bh) {
            self.checkMaySleep(this, op);
        }
        incDisable();
        try {
            boolean was = grabAndRelease(platform);
            flushWork(sys, self, false, bh);
            return was;
        } finally {
            if (!disable) {
                enable();
            }
        }
    }

    /**
     * Waits for the last queueing of this item to finish ({@code __flush_work}). The caller has
     * refused a wait from the item's own run ({@link #refuseWaitFromOwnRun}).
     *
     * @param checkDependency whether to apply {@code check_flush_dependency} (not from a cancel)
     * @param spin busy-wait instead of sleeping (a cancel of a BH item, which may come from BH context)
     */
    private boolean flushWork(Workqueues sys, Task self, boolean checkDependency, boolean spin) {
        Worker cur = Workqueues.currentWorker(self);
        LockEvents ev = sys.platform().lockEvents();
        if (ev != null) { // __flush_work: lock_map_acquire(&work->lockdep_map), then release, even if idle
            ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, this);
        }
        long target;
        PoolWorkqueue p;
        while (true) {
            p = pwq;
            if (p == null) {
                return false;
            }
            WorkerPool pool = p.pool;
            pool.lock.lock();
            try {
                p.drainInbox(); // a queueing that pushed onto the inbox is waited for like a linked one
                WorkList l = list;
                if (pwq != p || (l != null && l.pool != pool)) {
                    continue; // queued on another pool meanwhile
                }
                if (l != null) {
                    target = queueSeq();
                } else {
                    Worker w = pool.busyHash.find(this);
                    if (w == null) {
                        return false;
                    }
                    target = w.currentSeq;
                }
                break;
            } finally {
                pool.lock.unlock();
            }
        }
        if (checkDependency) {
            sys.checkFlushDependency(self, cur, p.wq, this);
        }
        if (ev != null && p.wq.flushWaitsOnQueue()) { // start_flush_work: the queue's map too
            ev.acquire(self, p.wq, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, p.wq);
        }
        final long t = target;
        Platform platform = sys.platform();
        if (spin) {
            while (doneSeq < t) {
                platform.cpuRelax();
            }
        } else {
            flushWait(platform).waitEvent(() -> doneSeq >= t);
        }
        return true;
    }

    @Override
    public String toString() {
        return name;
    }
}
