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
 */
public final class RawSpinLock {

    private static final int SPINS_BEFORE_YIELD = 64;

    private final AtomicBoolean locked = new AtomicBoolean();

    /** Takes the lock, spinning while another thread holds it. */
    public void lock() {
        if (!locked.compareAndSet(false, true)) {
            lockContended();
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
        return !locked.get() && locked.compareAndSet(false, true);
    }

    /** Releases the lock. */
    public void unlock() {
        locked.set(false);
    }

    /** Whether some thread holds the lock; advisory. */
    public boolean isLocked() {
        return locked.get();
    }
}
