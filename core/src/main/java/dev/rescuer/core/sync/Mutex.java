package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Iterator;
import java.util.function.BooleanSupplier;

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
 * <p>Implementation. The lock word {@code state} packs the locked bit and the number of tasks in the
 * slow path, as the kernel's {@code mutex->owner} packs the owner and {@code MUTEX_FLAG_WAITERS}.
 * An uncontended acquisition is one compare-and-set of the word from 0 to {@link #LOCKED}, and an
 * uncontended release one atomic add that clears the bit and returns whether anybody waits: no guard
 * is taken and nothing is allocated. Sleepers enqueue under the raw guard and add {@link #WAITER}
 * to the word before their first retry; the releaser wakes the first queued waiter when the word it
 * cleared counted any. The holder is kept beside the word in {@code owner} (a reference cannot share
 * a word with flag bits on the JVM), set by the task that takes the lock right after it took it and
 * cleared by it right before it lets go, so a task asking whether it is the owner gets an exact answer
 * and other tasks (reports) an advisory one.
 *
 * <p><b>Memory ordering.</b> {@code state} is the lock word: the successful compare-and-set that sets
 * {@link #LOCKED} is the acquire, and the atomic add that clears it is the release, so whatever the
 * holder wrote inside happens-before the next holder's entry. The waiter count lives in the same
 * word, so the waiter's add of {@link #WAITER} and the releaser's clearing add are totally ordered:
 * either the releaser's add comes first and the waiter's retry (its compare-and-set, after its add)
 * sees the lock free, or the waiter's comes first and the releaser's add returns a count and it wakes
 * the queue's head, which is enqueued under the guard before the add. No wake-up is lost. {@code owner}
 * is written with release stores by the task that holds (or is about to release) the lock and read
 * with an acquire by reports: it is exact for the calling task (a task sees its own writes, and it
 * clears the field before it releases, so a stale value is never itself) and advisory for others.
 * The waiter queue is guarded by the guard.
 */
public final class Mutex extends SleepingPrimitive {

    /** {@code state}: the lock is held. */
    private static final int LOCKED = 1;
    /** {@code state}: one task in the slow path (the count is {@code state >>> 1}). */
    private static final int WAITER = 2;

    private static final VarHandle STATE;
    private static final VarHandle OWNER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Mutex.class, "state", int.class);
            OWNER = l.findVarHandle(Mutex.class, "owner", Task.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The lock word: {@link #LOCKED} plus {@link #WAITER} per task in the slow path. Atomic: changed
     * only by compare-and-set and atomic adds (the waiter count under {@code guard}).
     */
    private volatile int state;
    /** The holder, or {@code null}. Written by the holder with release stores; exact for the caller only. */
    private Task owner;

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
        beginAcquire(self, "mutex_lock", Platform.NO_DEADLINE, LockEvents.EXCLUSIVE, subclass);
        if (!tryAcquire(self)) {
            lockSlow(self);
        }
        self.pushHeld(this);
    }

    /**
     * One attempt to take the lock word for {@code self}, letting a newcomer in ahead of queued
     * waiters as the kernel's optimistic spinning does; on success {@code self} is the owner.
     */
    private boolean tryAcquire(Task self) {
        int s = 0;
        while (!STATE.weakCompareAndSet(this, s, s | LOCKED)) {
            s = state;
            if ((s & LOCKED) != 0) {
                return false;
            }
        }
        OWNER.setRelease(this, self);
        return true;
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
        if (!tryAcquire(self) && !settle(self, lockSlow(self, deadline, interruptible), ev, deadline, op)) {
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
        if (owner == self) {
            throw new IllegalStateException("recursive locking: task " + self + " already holds " + describe()
                    + " (mutexes are not reentrant; this would deadlock)");
        }
        Waiter w;
        guard.lock();
        try {
            w = enqueueLocked(self, Waiter.EXCLUSIVE);
            STATE.getAndAdd(this, WAITER);
        } finally {
            guard.unlock();
        }
        int outcome = GRANTED; // stays so if the platform tears the task down meanwhile
        BooleanSupplier acquired = () -> tryAcquire(self);
        try {
            if (interruptible) {
                outcome = platform.awaitInterruptible(this, acquired, deadline) ? GRANTED : TIMED_OUT;
            } else {
                outcome = platform.await(this, acquired, deadline) ? GRANTED : TIMED_OUT;
            }
        } catch (InterruptedException e) {
            outcome = INTERRUPTED;
        } finally {
            guard.lock();
            try {
                waiters.remove(w);
                int now = (int) STATE.getAndAdd(this, -WAITER) - WAITER;
                if (outcome != GRANTED && (now & LOCKED) == 0 && !waiters.isEmpty()) {
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
        if (tryAcquire(self)) {
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
        Task self = owner;
        if (self == null || !platform.isCurrentTask(self)) {
            throw notHeld("unlock", platform.currentTask());
        }
        self.removeHeld(this);
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.release(self, this);
        }
        OWNER.setRelease(this, null);
        if ((int) STATE.getAndAdd(this, -LOCKED) != LOCKED) {
            wakeFirst();
        }
        platform.preemptionPoint();
    }

    private IllegalStateException notHeld(String op, Task self) {
        Task o = owner();
        return new IllegalStateException(o == null
                ? op + " of " + describe() + " by task " + self + ", but it is not locked"
                : op + " of " + describe() + " by task " + self + ", but it is held by task " + o);
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
        return (state & LOCKED) != 0;
    }

    /** The holder, or {@code null}. Advisory; for reports. */
    public Task owner() {
        return (Task) OWNER.getAcquire(this);
    }

    /** Whether the current task holds the mutex ({@code lockdep_assert_held}). */
    public boolean isHeldByCurrentTask() {
        Task o = owner;
        return o != null && platform.isCurrentTask(o);
    }

    /** The tasks waiting for the mutex, oldest first. A snapshot. */
    public java.util.List<Task> waitingTasks() {
        return queuedTasks(-1);
    }
}
