package dev.rescuer.core.sync;

import dev.rescuer.core.platform.SleepListener;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A mutex waiter that gives up (timeout, interrupt) after its wait ended but before it left the
 * queue, while a release gave it the waking role: it must pass the wake-up on to the next waiter, or
 * that one sleeps forever (no release is coming: the lock is free). The window is held open on real
 * threads by the giving-up task's {@link SleepListener}, which runs right after its wait ends; the
 * simulator never switches tasks there, so it cannot reach this case.
 */
class MutexWakeRoleTest {

    private final Fixture f = new Fixture();
    private final Mutex mutex = new Mutex(f.platform, "m");
    private final DrivenTask a = f.task("A");
    private final DrivenTask b = f.task("B");
    private final DrivenTask c = f.task("C");
    private final HoldAtWaitEnd hold = new HoldAtWaitEnd();

    @AfterEach
    void tearDown() {
        f.close();
    }

    /** Holds the task at the end of its next wait until {@link #release} is counted down. */
    private static final class HoldAtWaitEnd implements SleepListener {
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final AtomicBoolean armed = new AtomicBoolean(true);

        @Override
        public void sleeping(Task task) {
        }

        @Override
        public void running(Task task) {
            if (!armed.getAndSet(false)) {
                return;
            }
            held.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    release.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitHeld() throws InterruptedException {
            assertTrue(held.await(DrivenTask.PATIENCE.toSeconds(), TimeUnit.SECONDS), "the waiter's wait did not end");
        }
    }

    @Test
    void aTimedOutWaiterLeavingWithTheWakingRolePassesTheWakeUpOn() throws InterruptedException {
        a.run(mutex::lock);
        AtomicBoolean got = new AtomicBoolean(true);
        Op bLock = b.submit(() -> {
            f.platform.currentTask().setSleepListener(hold);
            got.set(mutex.tryLock(Duration.ofMillis(1)));
        });
        hold.awaitHeld(); // B timed out and is held before it leaves the queue
        Op cLock = c.runUntilBlocked(mutex::lock, mutex);
        releaseWhileBIsHeldAndExpectC(bLock, cLock);
        assertFalse(got.get(), "B had timed out");
    }

    @Test
    void anInterruptedWaiterLeavingWithTheWakingRolePassesTheWakeUpOn() throws InterruptedException {
        a.run(mutex::lock);
        AtomicBoolean interrupted = new AtomicBoolean();
        Op bLock = b.runUntilBlocked(() -> {
            f.platform.currentTask().setSleepListener(hold);
            try {
                mutex.lockInterruptible();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        }, mutex);
        Op cLock = c.runUntilBlocked(mutex::lock, mutex);
        f.platform.interrupt(b.task());
        hold.awaitHeld(); // B's wait ended by the interrupt; it is held before it leaves the queue

        releaseWhileBIsHeldAndExpectC(bLock, cLock);
        assertTrue(interrupted.get(), "B was interrupted");
    }

    /**
     * A releases the mutex while B, the queue's head, is held between the end of its wait and its
     * leaving: B gets the waking role on a free lock. Then B leaves, and C must get the mutex.
     */
    private void releaseWhileBIsHeldAndExpectC(Op bLock, Op cLock) {
        assertEquals(List.of(b.task(), c.task()), mutex.waitingTasks());
        a.run(mutex::unlock);
        hold.release.countDown();
        awaitOk(bLock);
        awaitOk(cLock);
        assertSame(c.task(), mutex.owner(), "B passed the wake-up on to C");
        c.run(mutex::unlock);
    }
}
