package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * A sleeping mutual-exclusion lock with an owner, like the kernel's {@code struct mutex}.
 *
 * <p>Guarantees: at most one task holds it; only the holder may release it; it is not reentrant, and
 * a holder that locks it again gets an {@link IllegalStateException} instead of a silent deadlock;
 * locking from atomic context throws {@link dev.rescuer.core.platform.AtomicContextException} even
 * when the mutex is free. Waiters queue in FIFO order. A release lets a running task take the lock
 * at once ("barging", as the kernel's optimistic spinning does) and wakes at most one waiter per
 * park cycle; the woken waiter (always the first in line) that lost to a barger asks for the lock to be
 * handed to it ({@code MUTEX_FLAG_HANDOFF}), and the next release gives it the lock directly, so no
 * waiter starves.
 *
 * <p>Implementation. The lock word {@code state} packs {@link #LOCKED}, {@link #WAKING},
 * {@link #HANDOFF} and the number of tasks in the slow path (units of {@link #WAITER}), as the
 * kernel's {@code mutex->owner} packs the owner with {@code MUTEX_FLAG_WAITERS}, {@code _HANDOFF} and
 * {@code _PICKUP}. An uncontended acquisition is one compare-and-set of the word from 0 to
 * {@link #LOCKED}, an uncontended release one compare-and-set back: no guard, no allocation.
 * Sleepers enqueue under the raw guard and count themselves in the word before their first retry.
 * A release that finds waiters counted and no {@link #WAKING} takes the guard, gives the queue's
 * head the waking role (its {@code Waiter.woken} and the word's {@link #WAKING}), clears
 * {@link #LOCKED} and wakes it; while {@link #WAKING} is set, releases only clear {@link #LOCKED}
 * (the JDK's AQS does the same with its {@code SIGNAL} status: one unpark per park cycle). The woken
 * waiter gives the role back under the guard and retries; if the lock is held again (a barger took
 * it), it sets {@link #HANDOFF} (it is the head: only the head is woken) and sleeps again. A release that finds
 * {@link #HANDOFF} keeps {@link #LOCKED} set, makes the head the owner, marks it granted and wakes
 * it ({@code __mutex_handoff}): ownership passes with no window for a barger. The holder is kept
 * beside the word in {@code owner} (a reference cannot share a word with flag bits on the JVM),
 * written by the task that takes the lock right after it took it, by the releaser that hands it
 * over, and cleared by the holder right before it lets go, so a task asking whether it is the owner
 * gets an exact answer and other tasks (reports) an advisory one.
 *
 * <p>Spinning. The woken first waiter that lost and set {@link #HANDOFF} does not sleep again at
 * once: it spins while the owner is running ({@link Platform#isOnCpu}, the kernel's
 * {@code owner_on_cpu()}), at most {@link #HANDOFF_SPINS} {@link Platform#cpuRelax()} turns, as the
 * kernel's first waiter calls {@code mutex_optimistic_spin(lock, ww_ctx, &waiter)}. The next release
 * hands the lock over while it spins, so the lock passes to a running task instead of staying held
 * by a sleeping one for a whole wake-up; the releaser sees the waiter's {@code spinning} flag and does
 * not wake it (the waiter picks the grant up, as the kernel's spinner picks up a
 * {@code MUTEX_FLAG_PICKUP} hand-over; the kernel's unlock wakes it even so). Newcomers do not spin
 * before queueing (measured, docs/PERFORMANCE.md). On a platform that runs one task at a time the
 * owner is never running when the waiter looks, so the spin has no turn and adds no scheduling point.
 *
 * <p><b>Memory ordering.</b> {@code state} is the lock word: the successful compare-and-set that sets
 * {@link #LOCKED} is the acquire, and the compare-and-set (or, with the guard held, the volatile
 * store) that clears it is the release, so whatever the holder wrote inside happens-before the next
 * holder's entry; a hand-over keeps {@link #LOCKED} set and publishes the new owner through the
 * waiter's volatile {@code granted} (written after {@code owner} and the word, read by the waiter's
 * condition). Locking legend of the word's parts: {@link #LOCKED} is set by a compare-and-set from
 * a word without it (anyone) and cleared only by the holder; the waiter count, {@link #WAKING} and
 * {@link #HANDOFF} change only with the guard held. So with the guard held and the lock held by the
 * caller the word is stable, and a releaser on its slow path writes it with one volatile store.
 * No wake-up is lost: a waiter counts itself (an atomic add) before its first retry, so a release
 * either comes first in the word's total order and the retry sees the lock free, or comes after and
 * sees the count. While {@link #WAKING} is set the woken waiter has not yet retried; it clears the
 * bit (under the guard) before it retries, so a release ordered before the clear left the lock free
 * for that retry (or a barger took it, and the barger's release sees the bit clear and wakes), and a
 * release ordered after it sees the bit clear and wakes. A hand-over to a spinning waiter is a
 * Dekker pair of volatiles: the releaser writes {@code Waiter.granted} and then reads
 * {@code Waiter.spinning} (waking the waiter unless it spins); the waiter writes {@code spinning}
 * false and then reads {@code granted} (sleeping again unless granted). Of the two, at least one
 * sees the other's write, so a grant is never left unseen by a sleeping waiter. The releaser sets {@code Waiter.woken}
 * before the word's {@link #WAKING} within one guard hold, and the waiter gives the role back only
 * under the guard, so the flag and the bit are never seen apart. A waiter that leaves (timeout,
 * interrupt) holding the role gives it back and, if the lock is free and others wait, passes it to
 * the new head. {@code owner} is written with release stores and read with an acquire by reports:
 * exact for the calling task (a task sees its own writes, and it clears the field before it
 * releases, so a stale value is never itself) and advisory for others. The waiter queue is guarded
 * by the guard.
 */
public final class Mutex extends SleepingPrimitive {

    /** {@code state}: the lock is held. */
    private static final int LOCKED = 1;
    /** {@code state}: a release woke the head waiter, which has not yet retried; releases wake no other. */
    private static final int WAKING = 2;
    /** {@code state}: the head waiter was woken and lost; the next release hands the lock to it. */
    private static final int HANDOFF = 4;
    /** {@code state}: one task in the slow path (the count is {@code state >>> 3}). */
    private static final int WAITER = 8;

    /**
     * The most {@link Platform#cpuRelax()} turns a first waiter that asked for a hand-over spins on
     * a running owner before it sleeps again; about one wake-up latency on a real platform.
     */
    static final int HANDOFF_SPINS = 1024;

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
     * The lock word: {@link #LOCKED}, {@link #WAKING}, {@link #HANDOFF} plus {@link #WAITER} per task
     * in the slow path. Atomic: {@link #LOCKED} is set by compare-and-set and cleared by the holder;
     * the other parts are guarded by {@code guard}.
     */
    private volatile int state;
    /**
     * The holder, or {@code null}. Written with release stores by the holder, or by the releaser
     * that hands the lock over; exact for the caller only.
     */
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

    /**
     * {@inheritDoc} Here: false. The mutex's own policy decides where a waiter spins (a first waiter
     * that asked for a hand-over spins while the owner runs); a waiter that sleeps sleeps at once, as
     * a kernel mutex waiter calls {@code schedule_preempt_disabled} after its optimistic spin.
     */
    @Override
    public boolean pollsBeforeSleep() {
        return false;
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
        LockEvents ev = beginAcquire(self, "mutex_lock", Platform.NO_DEADLINE, LockEvents.EXCLUSIVE, subclass);
        if (!tryAcquire(self)) {
            lockSlow(self, ev);
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
        if (!tryAcquire(self) && !settle(self, lockSlow(self, ev, deadline, interruptible), ev, deadline, op)) {
            return false;
        }
        self.pushHeld(this);
        endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
        return true;
    }

    private void lockSlow(Task self, LockEvents ev) {
        lockSlow(self, ev, Platform.NO_DEADLINE, false);
    }

    /** Sleeps for the mutex; {@link #GRANTED} once it holds it, or why it gave up. */
    private int lockSlow(Task self, LockEvents ev, long deadline, boolean interruptible) {
        if (owner == self) {
            throw refusedAfterBegin(self, ev, deadline, "recursive locking: task " + self + " already holds " + describe()
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
        BooleanSupplier acquired = () -> acquireQueued(self, w);
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
                outcome = leaveQueueLocked(w, outcome);
            } finally {
                guard.unlock();
            }
        }
        return outcome;
    }

    /**
     * A queued waiter's wait condition: whether {@code self} holds the lock now, by a hand-over or
     * by its own retry. A waiter holding the waking role gives it back first (under the guard, so
     * that the role's flag and bit change together) and, when it loses to a barger (it is the head),
     * sets {@link #HANDOFF} for the next release ({@code __mutex_trylock_or_handoff}).
     */
    private boolean acquireQueued(Task self, Waiter w) {
        if (w.granted) {
            return true;
        }
        if (w.woken) {
            boolean retried;
            guard.lock();
            try {
                retried = w.woken;
                if (retried && retryWokenLocked(self, w)) {
                    return true;
                }
            } finally {
                guard.unlock();
            }
            if (retried) {
                return spinForHandOff(w); // lost to a barger: HANDOFF is set for this waiter
            }
        }
        return tryAcquire(self);
    }

    /**
     * The first waiter, woken, lost to a barger and asked for a hand-over: instead of sleeping again
     * at once it spins while the owner runs, so that the next release hands the lock to a running
     * task ({@code mutex_optimistic_spin(lock, ww_ctx, &waiter)}, bounded as
     * {@code mutex_spin_on_owner} is by {@code owner_on_cpu()}; this one also stops after
     * {@link #HANDOFF_SPINS} turns, having no {@code need_resched()}). While it spins, its
     * {@code Waiter.spinning} tells the releaser that hands over not to wake it: it picks the grant
     * up itself, as the kernel's spinner picks up a {@code MUTEX_FLAG_PICKUP} hand-over (where the
     * kernel's unlock wakes it all the same). On a platform that runs one task at a time the owner is
     * never running when the waiter asks, so the loop ends before its first turn. An interrupt or a
     * deadline that comes while it spins is seen when the spin ends, as the kernel's spinner sees a
     * signal only after {@code mutex_optimistic_spin} returns.
     *
     * @return whether the lock was handed over meanwhile
     */
    private boolean spinForHandOff(Waiter w) {
        w.spinning = true;
        for (int turn = 0; turn < HANDOFF_SPINS && !w.granted; turn++) {
            Task o = (Task) OWNER.getOpaque(this);
            // null: the holder is between its word operation and its owner store, i.e. running
            if (o != null && !platform.isOnCpu(o)) {
                break;
            }
            platform.cpuRelax();
        }
        w.spinning = false; // before the last look at granted: pairs with unlockSlow's granted-then-spinning
        return w.granted;
    }

    /**
     * The woken waiter's retry: gives the waking role back and takes the lock or asks for a hand-over.
     * The role is only ever given to the queue's head, and waiters queue at the tail, so {@code w} is
     * still the head here. Guard held.
     */
    private boolean retryWokenLocked(Task self, Waiter w) {
        assert guard.isHeldByCurrentThread();
        assert waiters.peekFirst() == w : "the waking role went to a waiter that is not the head";
        w.woken = false;
        int s = state;
        while (true) {
            boolean free = (s & LOCKED) == 0;
            int next = free ? (s & ~WAKING) | LOCKED : (s & ~WAKING) | HANDOFF;
            int seen = (int) STATE.compareAndExchange(this, s, next);
            if (seen == s) {
                if (free) {
                    OWNER.setRelease(this, self);
                }
                return free;
            }
            s = seen; // a barger took or released the lock meanwhile
        }
    }

    /**
     * The waiter leaves the queue, holding the lock ({@code outcome} {@link #GRANTED}) or giving up.
     * A hand-over that came after the wait gave up stands. A waiter leaving with the waking role gives
     * it back and, when it gives up while the lock is free and others wait, passes the role to the
     * new head; one that asked for a hand-over and gives up withdraws the request. Guard held.
     *
     * @return the outcome, {@link #GRANTED} if the lock was handed over meanwhile
     */
    private int leaveQueueLocked(Waiter w, int outcome) {
        assert guard.isHeldByCurrentThread();
        if (w.granted && outcome != GRANTED) {
            if (outcome == INTERRUPTED) {
                platform.interrupt(w.task); // too late to matter here: keep it for the next wait
            }
            outcome = GRANTED;
        }
        boolean first = waiters.peekFirst() == w;
        waiters.remove(w);
        // Only the head sets HANDOFF, and a hand-over to it would have granted it.
        int clear = (w.woken ? WAKING : 0) | (first && outcome != GRANTED ? HANDOFF : 0);
        w.woken = false;
        int s = state;
        int next;
        while (true) {
            next = (s - WAITER) & ~clear;
            int seen = (int) STATE.compareAndExchange(this, s, next);
            if (seen == s) {
                break;
            }
            s = seen; // only LOCKED moves without the guard (fast-path lockers and the holder)
        }
        if (outcome != GRANTED && (next & (LOCKED | WAKING)) == 0 && next >= WAITER) {
            wakeHeadLocked(next); // an unlock may have woken this waiter: pass the wake-up on
        }
        return outcome;
    }

    /**
     * Gives the queue's head the waking role and wakes it, for a waiter that leaves a free lock to
     * others: the word was {@code s} (no {@link #LOCKED}, no {@link #WAKING}, waiters counted).
     * The flag is set before the bit, within this guard hold. Guard held.
     */
    private void wakeHeadLocked(int s) {
        assert guard.isHeldByCurrentThread();
        Waiter head = waiters.peekFirst();
        head.woken = true;
        while (true) {
            int seen = (int) STATE.compareAndExchange(this, s, s | WAKING);
            if (seen == s) {
                break;
            }
            s = seen; // a barger took the lock meanwhile: the bit is still this task's to set
        }
        platform.wake(head.task);
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
     * Releases the mutex ({@code mutex_unlock}): hands it to the first waiter if that one asked for a
     * hand-over, else frees it and wakes the first waiter unless a woken one is already on its way.
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
        if (!STATE.compareAndSet(this, LOCKED, 0)) {
            unlockSlow();
        }
        platform.preemptionPoint();
    }

    private IllegalStateException notHeld(String op, Task self) {
        Task o = owner();
        return new IllegalStateException(o == null
                ? op + " of " + describe() + " by task " + self + ", but it is not locked"
                : op + " of " + describe() + " by task " + self + ", but it is held by task " + o);
    }

    /**
     * The release with more than {@link #LOCKED} in the word ({@code __mutex_unlock_slowpath}). While
     * a woken waiter is on its way, or nobody waits, it only clears {@link #LOCKED}; otherwise it
     * takes the guard, under which the word is stable (the caller holds the lock), and either hands
     * the lock to the head ({@link #HANDOFF}) or gives the head the waking role and frees it. The
     * wake itself comes after the guard is dropped, as the kernel wakes its {@code wake_q} after
     * {@code wait_lock}: the woken task's first step is to take the guard. A wake that reaches a task
     * which has meanwhile stopped waiting is spurious, which the platform allows.
     */
    private void unlockSlow() {
        int s = state;
        while ((s & HANDOFF) == 0 && ((s & WAKING) != 0 || s < WAITER)) {
            int seen = (int) STATE.compareAndExchange(this, s, s & ~LOCKED);
            if (seen == s) {
                return;
            }
            s = seen; // a waiter came or left, or a woken one gave its role back
        }
        Task wake = null;
        guard.lock();
        try {
            s = state;
            Waiter head = waiters.peekFirst();
            if ((s & HANDOFF) != 0) {
                // __mutex_handoff: LOCKED stays set; the head, which set the bit, leaves the queue itself
                OWNER.setRelease(this, head.task);
                state = s & ~HANDOFF;
                head.granted = true;
                if (!head.spinning) { // read after granted: a spinning head sees the grant itself
                    wake = head.task;
                }
            } else if ((s & WAKING) == 0 && head != null) {
                head.woken = true;
                state = (s & ~LOCKED) | WAKING;
                wake = head.task;
            } else {
                state = s & ~LOCKED; // the woken waiter or the last one left before the guard
            }
        } finally {
            guard.unlock();
        }
        if (wake != null) {
            platform.wake(wake); // after the guard, as the kernel's wake_up_q: the woken task takes it next
        }
    }

    /** Whether some task holds the mutex. Advisory. */
    public boolean isLocked() {
        return (state & LOCKED) != 0;
    }

    /**
     * Whether the first waiter has asked for the lock to be handed to it at the next release
     * ({@code MUTEX_FLAG_HANDOFF}). Advisory (one read of the lock word); for tests, which read it at a
     * scheduling point where the word cannot move (under the simulator) or poll it.
     */
    public boolean isHandOffRequested() {
        return (state & HANDOFF) != 0;
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
