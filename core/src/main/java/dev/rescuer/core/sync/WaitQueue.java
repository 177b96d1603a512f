package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A queue of tasks waiting for a condition, like the kernel's {@code wait_queue_head_t} with
 * {@code wait_event()} and {@code wake_up()}.
 *
 * <p>The waiting side is the lost-wakeup-free pattern: the task joins the queue <em>before</em> it
 * evaluates the condition, and re-evaluates it after every wake-up, so a waker that makes the
 * condition true and then calls {@link #wakeUp()} always reaches it. The condition runs in the waiting
 * task with no lock held; it must not block and should read state the waker writes before waking
 * (a lock, a volatile or an atomic).
 *
 * <p>Waits are shared or exclusive. {@link #wakeUp()} wakes every shared waiter and the first
 * exclusive one ({@code wake_up}); {@link #wakeUpAll()} wakes all. An exclusive waiter that an earlier
 * wake-up woke and that has not settled back to sleep does not count as the one woken (it is made to
 * re-check its condition all the same), so successive wake-ups reach successive exclusive waiters and
 * none is lost. An exclusive waiter that is woken but finds its condition false sleeps again without
 * passing the wake-up on, as in the kernel.
 * Waiting in atomic context throws {@link dev.rescuer.core.platform.AtomicContextException}; waking
 * never sleeps.
 *
 * <p><b>Memory ordering.</b> A waiter queues itself under the guard, then issues a full fence, then
 * evaluates the condition; a waker changes the condition's state, issues a full fence, then reads
 * {@code nrWaiters}. These are the kernel's {@code set_current_state} and {@code wq_has_sleeper}
 * barriers: either the waker sees the waiter queued or the waiter sees the new state. A waiter's
 * {@code granted} and {@code wakes} are written under the guard and read by the waiter's condition.
 */
public final class WaitQueue extends SleepingPrimitive {

    /** Queued waiters, for the lock-free {@code waitqueue_active} check. Written under {@code guard}. */
    private volatile int nrWaiters;
    private final boolean idle;
    /** Set once before first use; read by reports. Volatile. */
    private volatile Object owner;

    /** A wait queue whose class is its name. */
    public WaitQueue(Platform platform, String name) {
        this(platform, name, name);
    }

    /** A wait queue named {@code name} in class {@code lockClass}. */
    public WaitQueue(Platform platform, String name, String lockClass) {
        this(platform, name, lockClass, false);
    }

    private WaitQueue(Platform platform, String name, String lockClass, boolean idle) {
        super(platform, name, lockClass);
        this.idle = idle;
    }

    /**
     * A wait queue for a daemon waiting for requests (kswapd, a worker's idle sleep): waiting on it is
     * an idle sleep, which the hung-task detector does not report ({@code TASK_IDLE}).
     */
    public static WaitQueue idle(Platform platform, String name, String lockClass) {
        return new WaitQueue(platform, name, lockClass, true);
    }

    @Override
    public boolean isIdleWait() {
        return idle;
    }

    /**
     * The structure whose event this queue waits for (a work item for {@code flush_work}, a workqueue
     * for {@code flush_workqueue}, a mempool), or {@code null}. Reports follow it to whoever can make
     * the event happen; the queue itself never uses it.
     */
    public Object owner() {
        return owner;
    }

    /** Records the structure this queue belongs to; see {@link #owner()}. Set once, before first use. */
    public void setOwner(Object owner) {
        this.owner = owner;
    }

    @Override
    public String kind() {
        return "waitqueue";
    }

    /** Sleeps until {@code condition} is true ({@code wait_event}). */
    public void waitEvent(BooleanSupplier condition) {
        waitEvent(condition, Waiter.SHARED, Platform.NO_DEADLINE, "wait_event");
    }

    /** Sleeps as an exclusive waiter until {@code condition} is true ({@code wait_event_exclusive}). */
    public void waitEventExclusive(BooleanSupplier condition) {
        waitEvent(condition, Waiter.EXCLUSIVE, Platform.NO_DEADLINE, "wait_event_exclusive");
    }

    /**
     * Sleeps until {@code condition} is true or {@code timeout} passes ({@code wait_event_timeout}).
     *
     * @return the condition's final value: {@code false} means the timeout passed first
     */
    public boolean waitEventTimeout(BooleanSupplier condition, Duration timeout) {
        return waitEvent(condition, Waiter.SHARED, platform.deadlineAfter(timeout), "wait_event_timeout");
    }

    /**
     * Sleeps until {@code condition} is true or the {@link Platform#nanoTime()} deadline passes.
     *
     * @return the condition's final value
     */
    public boolean waitEventUntil(BooleanSupplier condition, long deadlineNanos) {
        return waitEvent(condition, Waiter.SHARED, deadlineNanos, "wait_event_timeout");
    }

    /**
     * Sleeps until {@code condition} is true or the task is interrupted ({@code wait_event_interruptible};
     * also {@code wait_event_killable}: the JVM has one kind of interrupt). A condition that holds
     * wins over a pending interrupt.
     *
     * @throws InterruptedException if interrupted while the condition was false; the interrupt is consumed
     */
    public void waitEventInterruptible(BooleanSupplier condition) throws InterruptedException {
        waitEventOrThrow(condition, false, Platform.NO_DEADLINE, "wait_event_interruptible");
    }

    /**
     * Sleeps until {@code condition} is true, {@code timeout} passes or the task is interrupted
     * ({@code wait_event_interruptible_timeout}).
     *
     * @return the condition's final value: {@code false} means the timeout passed first
     * @throws InterruptedException if interrupted while the condition was false; the interrupt is consumed
     */
    public boolean waitEventInterruptibleTimeout(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        return waitEventOrThrow(condition, false, platform.deadlineAfter(timeout), "wait_event_interruptible_timeout");
    }

    /**
     * Sleeps until {@code condition} is true, the {@link Platform#nanoTime()} deadline passes or the
     * task is interrupted.
     *
     * @return the condition's final value
     * @throws InterruptedException if interrupted while the condition was false; the interrupt is consumed
     */
    public boolean waitEventInterruptibleUntil(BooleanSupplier condition, long deadlineNanos) throws InterruptedException {
        return waitEventOrThrow(condition, false, deadlineNanos, "wait_event_interruptible_timeout");
    }

    /**
     * The general wait, for this package's conditions: shared or exclusive, with a deadline, and
     * interruptible.
     */
    boolean waitEventOrThrow(BooleanSupplier condition, boolean exclusive, long deadline, String op) throws InterruptedException {
        int outcome = waitEvent(condition, exclusive ? Waiter.EXCLUSIVE : Waiter.SHARED, deadline, op, true);
        if (outcome == INTERRUPTED) {
            throw interruptedWhile(op, platform.currentTask());
        }
        return outcome == GRANTED;
    }

    private boolean waitEvent(BooleanSupplier condition, int mode, long deadline, String op) {
        return waitEvent(condition, mode, deadline, op, false) == GRANTED;
    }

    /** The wait itself: {@link #GRANTED} when the condition held, else {@link #TIMED_OUT} or {@link #INTERRUPTED}. */
    private int waitEvent(BooleanSupplier condition, int mode, long deadline, String op, boolean interruptible) {
        Task self = platform.currentTask();
        self.checkMaySleep(this, op);
        platform.preemptionPoint();
        if (deadline == Platform.NO_DEADLINE) {
            reportWait(self); // a potential wait, even if the condition already holds
        }
        if (condition.getAsBoolean()) {
            return GRANTED;
        }
        Waiter w;
        guard.lock();
        try {
            w = enqueueLocked(self, mode);
            nrWaiters++;
        } finally {
            guard.unlock();
        }
        // Pairs with the fence in wake(): either the waker sees this entry, or this task sees the
        // waker's change to the condition (the kernel's set_current_state barrier).
        VarHandle.fullFence();
        BooleanSupplier settled = () -> {
                int seen = w.wakes;
                if (condition.getAsBoolean()) {
                    return true;
                }
                // Going back to sleep: a later wake-up may pick this waiter again, unless one arrived
                // while the condition was being checked (its permit makes the sleep return at once).
                guard.lock();
                try {
                    if (w.wakes == seen) {
                        w.granted = false;
                    }
                } finally {
                    guard.unlock();
                }
                return false;
            };
        int outcome = GRANTED; // stays so if the platform tears the task down meanwhile
        try {
            if (!interruptible) {
                outcome = platform.await(this, settled, deadline) ? GRANTED : TIMED_OUT;
            } else {
                outcome = platform.awaitInterruptible(this, settled, deadline) ? GRANTED : TIMED_OUT;
            }
            return outcome;
        } catch (InterruptedException e) {
            outcome = INTERRUPTED;
            return outcome;
        } finally {
            guard.lock();
            try {
                waiters.remove(w);
                nrWaiters--;
                if (outcome != GRANTED && mode == Waiter.EXCLUSIVE && w.granted) {
                    // Woken as this wake-up's exclusive waiter, and leaving without using it: pass it
                    // on, or the next exclusive waiter would sleep through it (___wait_event does the same).
                    wakeLocked(false);
                }
            } finally {
                guard.unlock();
            }
        }
    }

    /**
     * Tells the validator, if one is installed, that the current task has just made this queue's
     * waiters' condition pending and will itself wake them (DEPT's {@code dept_request_event}): a
     * task can start waiting only from here on, so its next {@link #wakeUp}/{@link #wakeUpAll} depends
     * only on what the task acquires and waits on after this call, not on what it held or did
     * before (dm-bufio's reader inserting a buffer it alone will read). No effect without a validator.
     */
    public void requestEvent() {
        reportRequest();
    }

    /** Wakes every shared waiter and the first exclusive one ({@code wake_up}). */
    public void wakeUp() {
        wake(false);
    }

    /** Wakes every waiter ({@code wake_up_all}). */
    public void wakeUpAll() {
        wake(true);
    }

    private void wake(boolean all) {
        reportSignal(); // with or without waiters: the validator learns who signals
        VarHandle.fullFence();
        if (nrWaiters == 0) {
            platform.preemptionPoint();
            return;
        }
        guard.lock();
        try {
            wakeLocked(all);
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /** Wakes the waiters {@link #wake} picks. Call with the guard held. */
    private void wakeLocked(boolean all) {
        assert guard.isHeldByCurrentThread();
        boolean exclusiveWoken = false;
        for (Waiter w : waiters) {
            if (w.mode == Waiter.EXCLUSIVE && !all) {
                if (w.granted) {
                    // Woken earlier and not settled back to sleep: it may already have checked its
                    // condition, so nudge it to check again, but do not count it as this call's
                    // exclusive waiter (as try_to_wake_up on a running task does not count).
                    w.wakes++;
                    platform.wake(w.task);
                    continue;
                }
                if (exclusiveWoken) {
                    continue;
                }
                exclusiveWoken = true;
            }
            w.granted = true; // woken, and not yet settled back to sleep
            w.wakes++;
            platform.wake(w.task);
        }
    }

    /** Whether any task waits here ({@code waitqueue_active}). Advisory. */
    public boolean hasWaiters() {
        return nrWaiters != 0;
    }

    /** The tasks waiting, oldest first. A snapshot. */
    public List<Task> waitingTasks() {
        return queuedTasks(-1);
    }
}
