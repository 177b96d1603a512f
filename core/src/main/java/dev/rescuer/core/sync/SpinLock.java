package dev.rescuer.core.sync;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A non-sleeping lock for short critical sections, like the kernel's {@code spinlock_t}.
 *
 * <p>While a task holds it, the task is in <b>atomic context</b>: any blocking call it makes through
 * a core primitive throws {@link dev.rescuer.core.platform.AtomicContextException} naming that
 * primitive and this lock, the "sleeping function called from invalid context" of the kernel. A
 * simulator does not preempt a task in atomic context, so a spin lock is never contended there.
 * Locking it twice from one task, or unlocking it from a task that does not hold it, throws
 * {@link IllegalStateException}.
 */
public final class SpinLock extends AbstractPrimitive {

    private static final int SPINS_BEFORE_YIELD = 64;

    private final Platform platform;
    private final String name;
    private final String lockClass;
    /** The holder, or {@code null}: the lock word, taken by compare-and-set (acquire), cleared by its holder (release). */
    private final AtomicReference<Task> owner = new AtomicReference<>();

    /** A spin lock whose class is its name. */
    public SpinLock(Platform platform, String name) {
        this(platform, name, name);
    }

    /** A spin lock named {@code name} in class {@code lockClass}. */
    public SpinLock(Platform platform, String name, String lockClass) {
        if (platform == null) {
            throw new NullPointerException("platform");
        }
        this.platform = platform;
        this.name = SleepingPrimitive.requireName(name, "name");
        this.lockClass = SleepingPrimitive.requireName(lockClass, "lockClass");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lockClass() {
        return lockClass;
    }

    @Override
    public String kind() {
        return "spinlock";
    }

    /** Takes the lock, spinning while another task holds it, and enters atomic context. */
    public void lock() {
        Task self = platform.currentTask();
        if (owner.get() == self) {
            throw new IllegalStateException("recursive spin_lock of " + describe() + " by task " + self + ": this would spin forever");
        }
        platform.preemptionPoint();
        self.enterAtomic();
        int spins = 0;
        while (!owner.compareAndSet(null, self)) {
            if (++spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                spins = 0;
                Thread.yield();
            }
        }
        self.pushHeld(this);
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            // After the spin, unlike lockdep: a spinning task has no other way to report (it never
            // sleeps), and the edges are the same.
            ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, false);
        }
    }

    /** Takes the lock if it is free; on success the caller is in atomic context. */
    public boolean tryLock() {
        Task self = platform.currentTask();
        self.enterAtomic();
        if (owner.compareAndSet(null, self)) {
            self.pushHeld(this);
            LockEvents ev = platform.lockEvents();
            if (ev != null) {
                ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, true);
            }
            return true;
        }
        self.exitAtomic();
        return false;
    }

    /** Releases the lock and leaves the atomic context it entered. */
    public void unlock() {
        Task self = platform.currentTask();
        Task o = owner.get();
        if (o != self) {
            throw new IllegalStateException(o == null
                    ? "spin_unlock of " + describe() + " by task " + self + ", but it is not locked"
                    : "spin_unlock of " + describe() + " by task " + self + ", but it is held by task " + o);
        }
        self.removeHeld(this);
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.release(self, this);
        }
        owner.set(null);
        self.exitAtomic();
        platform.preemptionPoint();
    }

    /** Whether some task holds the lock. Advisory. */
    public boolean isLocked() {
        return owner.get() != null;
    }

    /** The holder, or {@code null}. Advisory. */
    public Task owner() {
        return owner.get();
    }

    @Override
    public String toString() {
        return describe();
    }
}
