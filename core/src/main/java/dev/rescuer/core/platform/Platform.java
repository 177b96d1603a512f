package dev.rescuer.core.platform;

import java.time.Duration;
import java.util.Collection;
import java.util.function.BooleanSupplier;

/**
 * The one door through which Rescuer's core blocks, wakes, starts threads, reads time and sets timers.
 *
 * <p>Everything above this interface (sleeping locks, the page allocator, workqueues) is written
 * against it and nothing else, so the same code runs on JVM threads ({@link RealPlatform}) and under a
 * simulator that controls which task runs next and what time it is. The contract is shaped to make
 * that possible:
 * <ul>
 *   <li><b>One blocking operation</b>, {@link #await}: the waiter sleeps until a condition it evaluates
 *       itself becomes true. A waker first makes the condition true, then calls {@link #wake}. Wake-ups
 *       are never lost (a wake that arrives before the sleep makes the sleep return at once) and may
 *       be spurious (the condition is simply re-checked). {@link #awaitInterruptible} is the same sleep
 *       ended also by {@link #interrupt}.
 *   <li><b>Scheduling points</b>: {@link #preemptionPoint()} marks places where another task could run
 *       first. A real platform does nothing there; a simulator may switch tasks. It is never called
 *       while holding a raw spin lock, and a platform must not switch away from a task in atomic
 *       context.
 *   <li><b>Tasks</b>: every thread has a {@link Task} record; {@link #currentTask()} finds it.
 *   <li><b>Time</b>: a monotonic clock and one-shot timers whose callbacks run in atomic context.
 * </ul>
 *
 * <p>A platform is an instance, never a global: tests and simulations create their own.
 */
public interface Platform extends AutoCloseable {

    /** A deadline that never passes. */
    long NO_DEADLINE = Long.MAX_VALUE;

    /** The record of the calling thread's task; a thread the platform did not start is adopted. */
    Task currentTask();

    /**
     * Whether {@code task} is the calling thread's task, exactly as {@code currentTask() == task}
     * (the default), but without looking the caller up where the platform can tell more cheaply: a
     * primitive that records its holder asks it on release instead of finding the current task.
     * Never adopts the calling thread.
     */
    default boolean isCurrentTask(Task task) {
        return currentTask() == task;
    }

    /**
     * Whether {@code task} is running right now, as far as the platform can tell: not asleep in
     * {@link #await} or blocked elsewhere. This is the kernel's {@code owner_on_cpu()}, which a task
     * spinning on a lock's holder asks to decide whether the holder can release soon; the answer is
     * advisory (the task may stop running the moment after), and a spinner must stay bounded anyway.
     * The default answers {@code true} only for the calling task, which is exact on a platform that
     * runs one task at a time (a simulator: whoever asks is the one running, so a spinner there stops
     * at once). Never blocks, never adopts the caller and is never a scheduling point.
     */
    default boolean isOnCpu(Task task) {
        return isCurrentTask(task);
    }

    /**
     * Starts a thread named {@code name} running {@code body}. The creating task first pays the
     * {@linkplain #setThreadStartCost thread-start cost}, which may block or fail.
     *
     * <p>An exception thrown by {@code body} ends the thread; it is recorded as the task's
     * {@linkplain Task#failure() failure} and reported through {@code System.Logger}.
     *
     * @return the new task, already running
     * @throws ThreadStartException if the cost cannot be paid or the thread cannot be created; in
     *     that case nothing remains charged
     */
    Task startThread(String name, Runnable body);

    /**
     * Blocks the current task until {@code task} has exited. Returns at once if it already has.
     *
     * @throws IllegalStateException if a task tries to join itself
     */
    void join(Task task);

    /**
     * Sleeps on {@code on} until {@code condition} holds or the deadline passes.
     *
     * <p>The condition is evaluated by the calling task: first before sleeping, then after every
     * wake-up. While the task sleeps, its record says it waits on {@code on} and since when, and its
     * {@link SleepListener} has been told. The call is itself a blocking operation: in atomic context it
     * throws {@link AtomicContextException}.
     *
     * @param on what the task waits for, for reports and detectors
     * @param condition evaluated without locks held; must not block
     * @param deadlineNanos a {@link #nanoTime()} value, or {@link #NO_DEADLINE}
     * @return the condition's last value: {@code false} only when the deadline passed first
     */
    boolean await(Primitive on, BooleanSupplier condition, long deadlineNanos);

    /**
     * Like {@link #await}, but an interrupt ends the sleep: the condition is evaluated first (if it
     * holds, the call returns {@code true} even with an interrupt pending, as the kernel's fast paths
     * succeed with a signal pending); then an interrupt pending on entry, or one delivered while the
     * task sleeps ({@link #interrupt}), makes it throw {@link InterruptedException} and consumes the
     * interrupt. This is the kernel's {@code TASK_INTERRUPTIBLE} / {@code TASK_KILLABLE} sleep: the
     * JVM has one kind of interrupt, so both map to it.
     *
     * @return the condition's last value: {@code false} only when the deadline passed first
     * @throws InterruptedException if interrupted before the condition held; the interrupt is consumed
     */
    boolean awaitInterruptible(Primitive on, BooleanSupplier condition, long deadlineNanos) throws InterruptedException;

    /**
     * Delivers an interrupt to {@code task}: its current or next {@link #awaitInterruptible} ends with
     * {@link InterruptedException}; uninterruptible sleeps ({@link #await}) ignore it, and it stays
     * pending for the next interruptible one. On {@link RealPlatform} this is
     * {@link Thread#interrupt()} of the task's thread, and an interrupt sent with
     * {@code Thread.interrupt} directly counts the same. Never blocks and is never a scheduling point.
     */
    void interrupt(Task task);

    /** Whether an interrupt is pending for {@code task}. Advisory when asked about another task. */
    boolean isInterrupted(Task task);

    /**
     * Consumes the calling task's pending interrupt, like {@link Thread#interrupted()}.
     *
     * @return whether one was pending
     */
    boolean interrupted();

    /**
     * Wakes {@code task} if it sleeps in {@link #await}, or makes its next sleep return at once.
     * Never blocks and is never a scheduling point, so it may be called with raw spin locks held.
     */
    void wake(Task task);

    /** A place where another task may be scheduled first; a no-op on a real platform. */
    void preemptionPoint();

    /**
     * One turn of a busy-wait loop ({@code cpu_relax()}): the caller cannot make progress until some
     * other task does, for example one that is half-way through queueing the item the caller wants to
     * grab. A real platform spins politely; a simulator must run another task first when one can run,
     * or a schedule that keeps picking the spinner would never end.
     */
    default void cpuRelax() {
        preemptionPoint();
        Thread.onSpinWait();
    }

    /** The monotonic clock, in nanoseconds from an arbitrary origin. */
    long nanoTime();

    /** The deadline {@code timeout} from now, saturating at {@link #NO_DEADLINE}. */
    default long deadlineAfter(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout: " + timeout);
        }
        long now = nanoTime();
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return NO_DEADLINE;
        }
        long d = now + nanos;
        return d < now || d == NO_DEADLINE ? NO_DEADLINE : d;
    }

    /**
     * Creates a disarmed timer that runs {@code callback} on the platform's timer context when it
     * fires. See {@link PlatformTimer} for what the callback may do.
     */
    PlatformTimer newTimer(String name, Runnable callback);

    /**
     * Installs what starting a thread costs. Called once, by the system that wires the memory model
     * to this platform.
     *
     * @throws IllegalStateException if a cost other than {@link ThreadStartCost#FREE} is installed
     */
    void setThreadStartCost(ThreadStartCost cost);

    /**
     * Whether {@code task}'s thread is blocked or waiting right now in code that does not go through
     * this platform (a JDK lock or monitor, {@code Object.wait}, a latch, blocking I/O), as far as the
     * platform can tell. The workqueue's concurrency management treats such a worker as sleeping and
     * the hung-task detector reports it. A platform that cannot tell (or on which nothing blocks
     * outside it, as in a simulator) answers {@code false}. Never blocks; any task may ask.
     */
    default boolean isBlockedOutsidePlatform(Task task) {
        return false;
    }

    /**
     * The JVM stack of {@code task}'s thread, for reports about blocking outside the platform, or an
     * empty array when the platform has none to give. Never blocks; any task may ask.
     */
    default StackTraceElement[] stackOf(Task task) {
        return new StackTraceElement[0];
    }

    /**
     * How many times {@code task}'s thread has stopped running to block or wait, inside this platform
     * or outside it, like the kernel's {@code nvcsw + nivcsw}: the hung-task detector takes a task
     * whose count has not moved between two looks, and that was blocked at both, to have stayed
     * blocked all along. {@code -1} when the platform cannot tell. Never blocks; any task may ask.
     */
    default long switchCount(Task task) {
        return -1;
    }

    /**
     * The validator's listener, or {@code null} when no validator watches this platform (the
     * default). The primitives read it on every acquisition, wait and signal; see {@link LockEvents}.
     */
    default LockEvents lockEvents() {
        return null;
    }

    /**
     * Whether starting a thread may block in memory reclaim, because the installed
     * {@linkplain #setThreadStartCost thread-start cost} allocates with a context that allows it. The
     * validator uses it: items of a queue without a rescuer then depend on reclaim.
     */
    default boolean threadStartMayReclaim() {
        return false;
    }

    /** A snapshot of the live tasks: started ones that have not exited, and adopted ones whose thread lives. */
    Collection<Task> tasks();

    /**
     * The tasks that exited while holding tracked primitives (a mutex, a rw-semaphore, a spin lock),
     * which therefore stay held, in id order. Reports use it to name a dead holder; see
     * {@link Task#heldAtExit()}. A snapshot; never blocks.
     */
    default Collection<Task> exitedHolders() {
        return java.util.List.of();
    }

    /** Stops the timer context. Threads the platform started are not interrupted. */
    @Override
    void close();
}
