package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

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
 * <p>Memory ordering. {@code pending} and {@code disableDepth} are atomics: whoever CASes PENDING
 * from clear to set owns the linkage fields until the item is on a list (after which the pool lock
 * guards them) or PENDING is cleared; the disable depth is raised before a canceller grabs PENDING
 * and read by a queuer after it set PENDING, so one of them sees the other. {@code pwq} and
 * {@code doneSeq} are volatile: written under the pool lock, read without it by flushers and
 * cancellers, who re-check under the lock; a flusher's wait condition reads {@code doneSeq}, which
 * the finishing worker writes before it wakes {@code flushWait} (published once by a CAS).
 */
public class Work implements Primitive {

    private final String name;
    private final Runnable body;

    /** The PENDING bit; whoever sets it owns the item until it is on a list or cleared. */
    final AtomicBoolean pending = new AtomicBoolean();
    /** Disable depth ({@code disable_work}); queueing fails while non-zero. */
    final AtomicInteger disableDepth = new AtomicInteger();

    // List linkage and queue state, guarded by the lock of `pwq.pool`.
    WorkList list;
    Work prev;
    Work next;
    int color;
    boolean inactive;
    /** Incremented by each successful queueing. */
    long queueSeq;

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

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lockClass() {
        return "(work_completion)" + name;
    }

    @Override
    public String kind() {
        return "work";
    }

    void run() {
        body.run();
    }

    private static final VarHandle FLUSH_WAIT;

    static {
        try {
            FLUSH_WAIT = MethodHandles.lookup().findVarHandle(Work.class, "flushWait", WaitQueue.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The wait queue flushers of this item sleep on, created on first use. */
    WaitQueue flushWait(Platform platform) {
        WaitQueue fw = flushWait;
        if (fw == null) {
            fw = new WaitQueue(platform, "(work_completion)" + name, "(work_completion)" + name);
            if (!FLUSH_WAIT.compareAndSet(this, null, fw)) {
                fw = flushWait;
            }
        }
        return fw;
    }

    /** Whether the item is queued and has not started ({@code work_pending}). Advisory. */
    public boolean isPending() {
        return pending.get();
    }

    /** Whether the item is pending or running. Advisory. */
    public boolean isBusy() {
        if (pending.get()) {
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
        if (pending.get()) {
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
        return sys != null && sys.flushWork(this);
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
        while (sys == null && pending.get()) {
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
        return sys != null && sys.cancel(this);
    }

    /**
     * Cancels the item and waits for a running instance to finish ({@code cancel_work_sync}). Wins
     * against an item that re-queues itself: on return it is neither pending nor running, unless
     * another task queues it concurrently. For an item last queued on a BH queue it may be called
     * from BH context, where it busy-waits for a running instance ({@code WORK_OFFQ_BH}); otherwise
     * it sleeps, and throws {@link dev.rescuer.core.platform.AtomicContextException} in atomic context.
     *
     * @return whether it was pending
     */
    public boolean cancelSync() {
        Workqueues sys = ownerForGrab();
        return sys != null && sys.cancelSync(this, false);
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
        return sys != null && sys.grabAndRelease(this);
    }

    /**
     * Like {@link #disable()}, then waits for a running instance to finish ({@code disable_work_sync}).
     * This is the cancel path ({@code __cancel_work_sync} with {@code WORK_CANCEL_DISABLE}), so it is
     * not subject to {@code check_flush_dependency}, and it follows {@link #cancelSync()}'s rule for BH items.
     *
     * @return whether it was pending
     */
    public boolean disableSync() {
        Workqueues sys = ownerForGrab();
        if (sys == null) {
            incDisable();
            return false;
        }
        return sys.cancelSync(this, true);
    }

    /**
     * Decrements the disable depth ({@code enable_work}).
     *
     * @return whether the item can be queued again (the depth reached zero)
     * @throws IllegalStateException if it was not disabled
     */
    public boolean enable() {
        while (true) {
            int d = disableDepth.get();
            if (d == 0) {
                throw new IllegalStateException("enable of work " + name + ", which is not disabled");
            }
            if (disableDepth.compareAndSet(d, d - 1)) {
                return d == 1;
            }
        }
    }

    void incDisable() {
        while (true) {
            int d = disableDepth.get();
            if (d == 0xFFFF) {
                throw new IllegalStateException("work " + name + ": disable depth overflow");
            }
            if (disableDepth.compareAndSet(d, d + 1)) {
                return;
            }
        }
    }

    /** Whether the item is disabled. */
    public boolean isDisabled() {
        return disableDepth.get() != 0;
    }

    @Override
    public String toString() {
        return name;
    }
}
