package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;

/**
 * A {@link Lock} over one mode of a sleeping primitive ({@link Mutex#asLock()}, either side of
 * {@link RwSemaphore#asReadWriteLock()}): every method is the primitive's own operation, so it blocks
 * through the platform, keeps the primitive's checks (no reentrancy; only the holder unlocks) and
 * reports to the validator as the primitive does.
 *
 * <p>The interface's interruptible methods ({@link #lockInterruptibly}, the timed {@link #tryLock})
 * throw at once when the caller is interrupted on entry, as the interface asks, and otherwise sleep
 * interruptibly through {@link Platform#awaitInterruptible}. Stateless apart from its primitive.
 */
final class PrimitiveLock implements Lock {

    /** An acquisition that may be interrupted. */
    interface InterruptibleAcquire {
        void acquire() throws InterruptedException;
    }

    /** A timed acquisition that may be interrupted. */
    interface InterruptibleTimedAcquire {
        boolean acquire(Duration timeout) throws InterruptedException;
    }

    private final Platform platform;
    private final String what;
    private final Runnable lock;
    private final InterruptibleAcquire lockInterruptibly;
    private final Runnable unlock;
    private final BooleanSupplier tryLock;
    private final InterruptibleTimedAcquire tryLockTimed;
    private final BooleanSupplier heldByCurrentTask;
    private final boolean conditions;

    PrimitiveLock(Platform platform, String what, Runnable lock, InterruptibleAcquire lockInterruptibly, Runnable unlock,
            BooleanSupplier tryLock, InterruptibleTimedAcquire tryLockTimed, BooleanSupplier heldByCurrentTask,
            boolean conditions) {
        this.platform = platform;
        this.what = what;
        this.lock = lock;
        this.lockInterruptibly = lockInterruptibly;
        this.unlock = unlock;
        this.tryLock = tryLock;
        this.tryLockTimed = tryLockTimed;
        this.heldByCurrentTask = heldByCurrentTask;
        this.conditions = conditions;
    }

    @Override
    public void lock() {
        lock.run();
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        checkNotInterrupted("lockInterruptibly");
        lockInterruptibly.acquire();
    }

    @Override
    public boolean tryLock() {
        return tryLock.getAsBoolean();
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        checkNotInterrupted("tryLock");
        return tryLockTimed.acquire(Duration.ofNanos(Math.max(0, unit.toNanos(time))));
    }

    private void checkNotInterrupted(String op) throws InterruptedException {
        if (platform.interrupted()) {
            throw new InterruptedException(op + " of " + what + ": task " + platform.currentTask() + " was interrupted on entry");
        }
    }

    @Override
    public void unlock() {
        unlock.run();
    }

    /**
     * A condition on a {@link WaitQueue} tied to this lock.
     *
     * @throws UnsupportedOperationException for a rw-semaphore's read lock, whose holders are not
     *     alone and so cannot wait on a condition of it
     */
    @Override
    public Condition newCondition() {
        if (!conditions) {
            throw new UnsupportedOperationException("a condition needs an exclusive lock; " + what + " is shared");
        }
        return new WaitQueueCondition(platform, what, this, heldByCurrentTask);
    }

    @Override
    public String toString() {
        return "Lock[" + what + "]";
    }
}
