package dev.rescuer.core.sync;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The guard inside a primitive, like the kernel's {@code raw_spinlock_t} in a mutex's {@code wait_lock}:
 * a test-and-test-and-set lock that touches no task record and is never reported.
 *
 * <p>Rules, which every user in core keeps: hold it for a few instructions only; never call anything
 * that blocks or is a {@linkplain dev.rescuer.core.platform.Platform#preemptionPoint() scheduling point}
 * while holding it ({@link dev.rescuer.core.platform.Platform#wake} is allowed). Under a simulator that
 * switches tasks only at scheduling points it is therefore never contended. Code outside core wants
 * {@link SpinLock}, which is tracked and checked.
 *
 * <p><b>Owner.</b> The lock records the thread that holds it in a plain field, written by the holder
 * right after it takes the lock and cleared right before it lets go. So
 * {@link #isHeldByCurrentThread()} is exact for the calling thread (a thread always sees its own
 * writes, and it cleared the field before its last release, so a stale value is never itself), which
 * lets code guarded by the lock state its rule as {@code assert lock.isHeldByCurrentThread()} and lets
 * an unwinding path that may or may not hold it release it ({@link #unlockIfHeldByCurrentThread()}).
 * The cost is two plain stores per hold. With assertions on, {@link #unlock()} also checks that the
 * caller is the holder.
 */
public final class RawSpinLock {

    private static final int SPINS_BEFORE_YIELD = 64;

    private final AtomicBoolean locked = new AtomicBoolean();
    /** The holder; written only by the holder, under the lock. Exact for the holder, advisory for others. */
    private Thread owner;

    /** Takes the lock, spinning while another thread holds it. */
    public void lock() {
        if (!locked.compareAndSet(false, true)) {
            lockContended();
        }
        owner = Thread.currentThread();
    }

    private void lockContended() {
        int spins = 0;
        while (locked.get() || !locked.compareAndSet(false, true)) {
            if (++spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                spins = 0;
                Thread.yield(); // the holder may have been descheduled by the OS
            }
        }
    }

    /** Takes the lock if it is free. */
    public boolean tryLock() {
        if (!locked.get() && locked.compareAndSet(false, true)) {
            owner = Thread.currentThread();
            return true;
        }
        return false;
    }

    /**
     * Releases the lock.
     *
     * @throws AssertionError with assertions on, if the calling thread does not hold it
     */
    public void unlock() {
        assert owner == Thread.currentThread() : "raw spin lock released by " + Thread.currentThread().getName()
                + ", which does not hold it";
        owner = null;
        locked.set(false);
    }

    /**
     * Releases the lock if the calling thread holds it, for unwinding paths of code that holds the
     * lock across calls (a worker's loop) and may be left by an exception with or without it.
     *
     * @return whether the lock was held and is now released
     */
    public boolean unlockIfHeldByCurrentThread() {
        if (owner != Thread.currentThread()) {
            return false;
        }
        unlock();
        return true;
    }

    /** Whether the calling thread holds the lock: exact, for locking-rule asserts and unwinding. */
    public boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }

    /** Whether some thread holds the lock; advisory. */
    public boolean isLocked() {
        return locked.get();
    }
}
