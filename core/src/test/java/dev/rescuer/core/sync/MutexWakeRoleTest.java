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
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        a.run(mutex::lock);
        HoldAtWaitEnd hold = new HoldAtWaitEnd();
        AtomicBoolean got = new AtomicBoolean(true);
        Op bLock = b.submit(() -> {
            f.platform.currentTask().setSleepListener(hold);
            got.set(mutex.tryLock(Duration.ofMillis(1)));
        });
        hold.awaitHeld(); // B timed out and is held before it leaves the queue
        Op cLock = c.runUntilBlocked(mutex::lock, mutex);
        assertEquals(List.of(b.task(), c.task()), mutex.waitingTasks());

        a.run(mutex::unlock); // gives B, the head, the waking role and frees the lock
        hold.release.countDown();
        awaitOk(bLock);
        assertFalse(got.get(), "B had timed out");
        awaitOk(cLock);
        assertSame(c.task(), mutex.owner(), "B passed the wake-up on to C");
        c.run(mutex::unlock);
    }

    @Test
    void anInterruptedWaiterLeavingWithTheWakingRolePassesTheWakeUpOn() throws InterruptedException {
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        a.run(mutex::lock);
        HoldAtWaitEnd hold = new HoldAtWaitEnd();
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

        a.run(mutex::unlock);
        hold.release.countDown();
        awaitOk(bLock);
        assertTrue(interrupted.get(), "B was interrupted");
        awaitOk(cLock);
        assertSame(c.task(), mutex.owner(), "B passed the wake-up on to C");
        c.run(mutex::unlock);
    }
}
