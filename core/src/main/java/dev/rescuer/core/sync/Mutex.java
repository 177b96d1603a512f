package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A sleeping mutual-exclusion lock with an owner, like the kernel's {@code struct mutex}.
 *
 * <p>Guarantees: at most one task holds it; only the holder may release it; it is not reentrant, and
 * a holder that locks it again gets an {@link IllegalStateException} instead of a silent deadlock;
 * locking from atomic context throws {@link dev.rescuer.core.platform.AtomicContextException} even
 * when the mutex is free. Waiters queue in FIFO order and the first is woken on each release; a task
 * arriving at the moment of release may take the lock first (as in the kernel, whose optimistic
 * spinning lets newcomers in), and the woken waiter then sleeps again at the head of the queue.
 *
 * <p>Implementation. The fast path is one compare-and-set of the owner from {@code null} to the
 * current task, and one volatile store to release it. Sleepers register under a raw guard and bump a
 * volatile waiter count before their first retry; the releaser clears the owner and then reads the
 * count, so (both being volatile) one of them always sees the other and no wake-up is lost.
 *
 * <p><b>Memory ordering.</b> {@code owner} is the lock word, as {@code mutex->owner} is: the
 * successful compare-and-set that takes it is the acquire, and the volatile store of {@code null}
 * that releases it is the release, so whatever the holder wrote inside happens-before the next
 * holder's entry. {@code nrWaiters} (the kernel's {@code MUTEX_FLAG_WAITERS}, as a count) is written
 * under the guard and read by the releaser without it; the store-then-load on each side
 * (waiter: count then owner CAS in its condition; releaser: owner then count) is the Dekker pair that
 * keeps wake-ups from being lost, both being volatile. The waiter queue is guarded by the guard.
 */
public final class Mutex extends SleepingPrimitive {

    /** The holder, or {@code null}: the lock word. Atomic; changed by its holder or a compare-and-set. */
    private final AtomicReference<Task> owner = new AtomicReference<>();
    /** Tasks in the slow path, a waiters flag that unlock reads without the guard. Written under {@code guard}. */
    private volatile int nrWaiters;

    /** A mutex whose class is its name. */
    public Mutex(Platform platform, String name) {
        this(platform, name, name);
    }

    /** A mutex named {@code name} in lock class {@code lockClass}. */
    public Mutex(Platform platform, String name, String lockClass) {
        super(platform, name, lockClass);
    }

    @Override
    public String kind() {
        return "mutex";
    }

    /** Takes the mutex, sleeping while another task holds it ({@code mutex_lock}). */
    public void lock() {
        lockNested(0);
    }

    /**
     * Like {@link #lock()}, telling the validator that this instance is taken nested inside another
     * of its class on purpose ({@code mutex_lock_nested}): {@code subclass} tells the levels apart.
     * Without a validator it is {@link #lock()}.
     *
     * @param subclass the nesting level, 0 for the outermost
     */
    public void lockNested(int subclass) {
        Task self = platform.currentTask();
        self.checkMaySleep(this, "mutex_lock");
        platform.preemptionPoint();
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.acquire(self, this, LockEvents.EXCLUSIVE, subclass, false);
        }
        if (!owner.compareAndSet(null, self)) {
            lockSlow(self);
        }
        self.pushHeld(this);
    }

    /**
     * Takes the mutex unless the task is interrupted first ({@code mutex_lock_interruptible}, and
     * {@code mutex_lock_killable}: the JVM has one kind of interrupt). As in the kernel, a free mutex
     * is taken even with an interrupt pending; only the sleep is interruptible. A waiter that gives
     * up tells the validator the acquisition was released ({@code mutex_release} on the kernel's
     * error path) and passes its place on to the next waiter.
     *
     * @throws InterruptedException if interrupted ({@link Platform#interrupt}, or
     *     {@code Thread.interrupt} on a real platform) before the mutex was free; the interrupt is consumed
     */
    public void lockInterruptible() throws InterruptedException {
        acquire(Platform.NO_DEADLINE, true, "mutex_lock_interruptible");
    }

    /**
     * Takes the mutex, sleeping at most {@code timeout} for it. The kernel has no timed mutex lock;
     * this is {@link java.util.concurrent.locks.Lock#tryLock(long, java.util.concurrent.TimeUnit)}'s
     * shape. A timed acquisition cannot wait forever, so the validator sees it as a try-lock (no
     * dependency of its own), as DEPT skips timed waits.
     *
     * @return whether the mutex was taken
     */
    public boolean tryLock(Duration timeout) {
        return uninterruptible(() -> acquire(platform.deadlineAfter(timeout), false, "mutex_lock_timeout"));
    }

    /** For the {@link java.util.concurrent.locks.Lock} adapter: timed and interruptible. */
    boolean tryLockInterruptible(Duration timeout) throws InterruptedException {
        return acquire(platform.deadlineAfter(timeout), true, "mutex_lock_interruptible_timeout");
    }

    private boolean acquire(long deadline, boolean interruptible, String op) throws InterruptedException {
        Task self = platform.currentTask();
        LockEvents ev = beginAcquire(self, op, deadline, LockEvents.EXCLUSIVE, 0);
        if (!owner.compareAndSet(null, self) && !settle(self, lockSlow(self, deadline, interruptible), ev, deadline, op)) {
            return false;
        }
        self.pushHeld(this);
        endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
        return true;
    }

    private void lockSlow(Task self) {
        lockSlow(self, Platform.NO_DEADLINE, false);
    }

    /** Sleeps for the mutex; {@link #GRANTED} once it holds it, or why it gave up. */
    private int lockSlow(Task self, long deadline, boolean interruptible) {
        if (owner.get() == self) {
            throw new IllegalStateException("recursive locking: task " + self + " already holds " + describe()
                    + " (mutexes are not reentrant; this would deadlock)");
        }
        Waiter w;
        guard.lock();
        try {
            w = enqueueLocked(self, Waiter.EXCLUSIVE);
            nrWaiters++;
        } finally {
            guard.unlock();
        }
        int outcome = GRANTED; // stays so if the platform tears the task down meanwhile
        try {
            if (interruptible) {
                outcome = platform.awaitInterruptible(this, () -> owner.compareAndSet(null, self), deadline) ? GRANTED : TIMED_OUT;
            } else {
                outcome = platform.await(this, () -> owner.compareAndSet(null, self), deadline) ? GRANTED : TIMED_OUT;
            }
        } catch (InterruptedException e) {
            outcome = INTERRUPTED;
        } finally {
            guard.lock();
            try {
                waiters.remove(w);
                nrWaiters--;
                if (outcome != GRANTED && owner.get() == null && !waiters.isEmpty()) {
                    // An unlock may have woken this waiter as the first: pass the wake-up on.
                    platform.wake(waiters.peekFirst().task);
                }
            } finally {
                guard.unlock();
            }
        }
        return outcome;
    }

    /**
     * This mutex as a {@link java.util.concurrent.locks.Lock}, for code written against the JDK's
     * interface: {@code lock}, {@code unlock}, {@code tryLock} are this mutex's; {@code lockInterruptibly}
     * and the timed {@code tryLock} are interruptible and, as the interface says, throw at once when
     * the caller is interrupted on entry; {@code newCondition} gives a condition on a
     * {@link WaitQueue}. Everything blocks through the platform and reports to the validator as the
     * mutex does. The lock is not reentrant, unlike {@link java.util.concurrent.locks.ReentrantLock}.
     */
    public java.util.concurrent.locks.Lock asLock() {
        return new PrimitiveLock(platform, describe(), this::lock, this::lockInterruptible, this::unlock,
                this::tryLock, this::tryLockInterruptible, this::isHeldByCurrentTask, true);
    }

    /**
     * Takes the mutex if it is free ({@code mutex_trylock}). Never sleeps, so it is allowed in atomic
     * context.
     *
     * @return whether the mutex was taken; {@code false} also when the caller already holds it
     */
    public boolean tryLock() {
        Task self = platform.currentTask();
        platform.preemptionPoint();
        if (owner.compareAndSet(null, self)) {
            self.pushHeld(this);
            LockEvents ev = platform.lockEvents();
            if (ev != null) {
                ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, true);
            }
            return true;
        }
        return false;
    }

    /**
     * Releases the mutex ({@code mutex_unlock}) and wakes the first waiter.
     *
     * @throws IllegalStateException if the caller does not hold it
     */
    public void unlock() {
        Task self = platform.currentTask();
        Task o = owner.get();
        if (o != self) {
            throw new IllegalStateException(o == null
                    ? "unlock of " + describe() + " by task " + self + ", but it is not locked"
                    : "unlock of " + describe() + " by task " + self + ", but it is held by task " + o);
        }
        self.removeHeld(this);
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.release(self, this);
        }
        owner.set(null);
        if (nrWaiters != 0) {
            wakeFirst();
        }
        platform.preemptionPoint();
    }

    private void wakeFirst() {
        guard.lock();
        try {
            Iterator<Waiter> it = waiters.iterator();
            if (it.hasNext()) {
                platform.wake(it.next().task);
            }
        } finally {
            guard.unlock();
        }
    }

    /** Whether some task holds the mutex. Advisory. */
    public boolean isLocked() {
        return owner.get() != null;
    }

    /** The holder, or {@code null}. Advisory; for reports. */
    public Task owner() {
        return owner.get();
    }

    /** Whether the current task holds the mutex ({@code lockdep_assert_held}). */
    public boolean isHeldByCurrentTask() {
        return owner.get() == platform.currentTask();
    }

    /** The tasks waiting for the mutex, oldest first. A snapshot. */
    public java.util.List<Task> waitingTasks() {
        return queuedTasks(-1);
    }
}
