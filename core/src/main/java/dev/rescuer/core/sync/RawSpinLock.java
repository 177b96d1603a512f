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
 * <p><b>Owner checks.</b> When Java assertions are enabled ({@code -ea}, as in the tests), the lock
 * records the thread that holds it, so that code guarded by it can state its locking rule as
 * {@code assert lock.isHeldByCurrentThread()}. With assertions off nothing is recorded and the check
 * is never evaluated.
 */
public final class RawSpinLock {

    private static final int SPINS_BEFORE_YIELD = 64;

    private static final boolean TRACK_OWNER;

    static {
        boolean ea = false;
        assert ea = true; // deliberate side effect: true only when assertions are enabled
        TRACK_OWNER = ea;
    }

    private final AtomicBoolean locked = new AtomicBoolean();
    /** The holder, recorded only when assertions are on; written by the holder under the lock. */
    private volatile Thread owner;

    /** Takes the lock, spinning while another thread holds it. */
    public void lock() {
        if (!locked.compareAndSet(false, true)) {
            lockContended();
        }
        if (TRACK_OWNER) {
            owner = Thread.currentThread();
        }
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
            if (TRACK_OWNER) {
                owner = Thread.currentThread();
            }
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
        if (TRACK_OWNER) {
            assert owner == Thread.currentThread() : "raw spin lock released by " + Thread.currentThread().getName()
                    + ", which does not hold it (holder: " + (owner == null ? "none" : owner.getName()) + ")";
            owner = null;
        }
        locked.set(false);
    }

    /**
     * Whether the calling thread holds the lock, for {@code assert} statements of a locking rule.
     * Meaningful only with assertions on; with them off it answers {@code true} whenever the lock is
     * held by anyone, so that it can never fail an assertion it was not meant to check.
     */
    public boolean isHeldByCurrentThread() {
        return TRACK_OWNER ? owner == Thread.currentThread() : locked.get();
    }

    /** Whether some thread holds the lock; advisory. */
    public boolean isLocked() {
        return locked.get();
    }
}
