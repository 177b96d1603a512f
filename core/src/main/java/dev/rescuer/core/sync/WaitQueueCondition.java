package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;

import java.time.Duration;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;

/**
 * A {@link Condition} of a {@link PrimitiveLock}, built on a {@link WaitQueue}: {@code await}
 * releases the lock, sleeps as an exclusive waiter until a signal that came after it released
 * the lock, and takes the lock again (also when it throws), as the interface says.
 *
 * <p>Each condition counts its signals in {@code generation}, which only the lock's holder
 * changes; an awaiting task reads it while still holding the lock, so a signal can neither come
 * between that read and the sleep unseen nor be lost: the waiter's condition is "the generation
 * moved". {@link #signal()} wakes one exclusive waiter ({@code wake_up}), {@link #signalAll()}
 * all of them; a waiter woken by a later signal than the one meant for it may also return, which
 * the interface allows as a spurious wake-up, so callers re-check their predicate in a loop.
 * {@link #awaitUntil(Date)} is not supported: the platform has a monotonic clock and no wall clock.
 *
 * <p><b>Memory ordering.</b> {@code generation} is volatile, written under the lock and read by
 * sleeping waiters without it; the wait queue's fences pair the write with the re-check.
 */
final class WaitQueueCondition implements Condition {

    private final Platform platform;
    private final Lock lock;
    private final BooleanSupplier heldByCurrentTask;
    private final WaitQueue queue;
    /** Signals sent so far. Written with the lock held; read by waiters without it. */
    private volatile long generation;

    WaitQueueCondition(Platform platform, String lockName, Lock lock, BooleanSupplier heldByCurrentTask) {
        this.platform = platform;
        this.lock = lock;
        this.heldByCurrentTask = heldByCurrentTask;
        this.queue = new WaitQueue(platform, "condition of " + lockName, "condition");
    }

    private long enter(String op) {
        if (!heldByCurrentTask.getAsBoolean()) {
            throw new IllegalMonitorStateException(op + " on a condition of " + lock + " by task "
                    + platform.currentTask() + ", which does not hold the lock");
        }
        return generation;
    }

    @Override
    public void await() throws InterruptedException {
        awaitUntil(Platform.NO_DEADLINE, "await");
    }

    @Override
    public void awaitUninterruptibly() {
        long seen = enter("awaitUninterruptibly");
        lock.unlock();
        try {
            queue.waitEventExclusive(() -> generation != seen);
        } finally {
            lock.lock();
        }
    }

    @Override
    public long awaitNanos(long nanosTimeout) throws InterruptedException {
        long deadline = platform.deadlineAfter(Duration.ofNanos(Math.max(0, nanosTimeout)));
        awaitUntil(deadline, "awaitNanos");
        return deadline == Platform.NO_DEADLINE ? Long.MAX_VALUE : deadline - platform.nanoTime();
    }

    @Override
    public boolean await(long time, TimeUnit unit) throws InterruptedException {
        return awaitUntil(platform.deadlineAfter(Duration.ofNanos(Math.max(0, unit.toNanos(time)))), "await");
    }

    /**
     * Not supported: the platform's clock is monotonic (virtual, under the simulator), with no
     * relation to dates.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public boolean awaitUntil(Date deadline) {
        throw new UnsupportedOperationException("awaitUntil(Date) on a condition of " + lock
                + ": the platform has no wall clock; use await(time, unit)");
    }

    /** Whether it was signalled (as opposed to timing out). Interrupts are checked before the lock is released. */
    private boolean awaitUntil(long deadline, String op) throws InterruptedException {
        long seen = enter(op);
        if (platform.interrupted()) {
            throw new InterruptedException(op + " on a condition of " + lock + ": task " + platform.currentTask()
                    + " was interrupted on entry");
        }
        lock.unlock();
        try {
            return queue.waitEventOrThrow(() -> generation != seen, true, deadline, op);
        } finally {
            lock.lock();
        }
    }

    @Override
    public void signal() {
        enter("signal");
        generation++;
        queue.wakeUp();
    }

    @Override
    public void signalAll() {
        enter("signalAll");
        generation++;
        queue.wakeUpAll();
    }
}
