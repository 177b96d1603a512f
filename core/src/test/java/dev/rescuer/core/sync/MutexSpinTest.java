package dev.rescuer.core.sync;

import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mutex's first waiter that lost to a barger spins on the running owner instead of sleeping
 * again ({@code mutex_optimistic_spin} with a waiter), on real threads. Every test sets the same
 * stage with a {@link SpinProbePlatform}: A holds the mutex, B sleeps queued, A releases (B's wake-up
 * is held back) and takes the mutex again at once, then B's wake-up is delivered: B retries, loses,
 * asks for a hand-over and spins. The probe decides whether A counts as running and sees B's turns.
 */
class MutexSpinTest {

    private final SpinProbePlatform probe = new SpinProbePlatform();
    private final Mutex mutex = new Mutex(probe, "m");
    private final AtomicLong sequence = new AtomicLong();
    private final List<DrivenTask> tasks = new ArrayList<>();
    private final DrivenTask a = task("A");
    private final DrivenTask b = task("B");
    /** B's spin turns ({@code cpuRelax} calls) since the stage was set. */
    private final AtomicInteger turns = new AtomicInteger();
    private volatile Thread bThread;

    private DrivenTask task(String name) {
        DrivenTask t = new DrivenTask(probe, name, sequence);
        tasks.add(t);
        return t;
    }

    @AfterEach
    void tearDown() {
        for (DrivenTask t : tasks) {
            t.close();
        }
        probe.close();
    }

    /**
     * Sets the stage: B runs {@code bLock} and sleeps queued; A releases and barges back in before B
     * retries; then B's wake-up is delivered with {@code onTurn} run at each of B's spin turns (turn
     * number from 1).
     */
    private Op bargeAgainstWokenWaiter(Runnable bLock, IntConsumer onTurn) {
        Op op = queueBehindA(bLock);
        a.run(this::releaseAndBargeIn);
        deliverBsWakeUp(onTurn);
        return op;
    }

    /** A takes the mutex; B runs {@code bLock} and sleeps queued behind it; B's wake-ups are held back. */
    private Op queueBehindA(Runnable bLock) {
        a.run(mutex::lock);
        Op op = b.runUntilBlocked(() -> {
            bThread = Thread.currentThread();
            bLock.run();
        }, mutex);
        probe.holdWakesOf(t -> t == b.task());
        return op;
    }

    /** A's release gives B the waking role (its wake-up is held back), and A takes the mutex again. */
    private void releaseAndBargeIn() {
        mutex.unlock();
        assertTrue(mutex.tryLock(), "A barges in before B retries");
        assertEquals(1, probe.wakeCount(b.task()), "A's release woke B");
    }

    /** Delivers B's held wake-up, with {@code onTurn} run at each of B's spin turns (from 1). */
    private void deliverBsWakeUp(IntConsumer onTurn) {
        probe.onCpuRelax(t -> {
            if (t == b.task()) {
                onTurn.accept(turns.incrementAndGet());
            }
        });
        probe.releaseWakes();
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(DrivenTask.PATIENCE.toSeconds(), TimeUnit.SECONDS), "latch not counted down");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Waits until B's retry has lost (only that retry asks for a hand-over) and B's thread sleeps
     * again (parked in the platform), having ended its spin.
     */
    private void awaitBLostAndParked() {
        Poll.until("B lost its retry", mutex::isHandOffRequested);
        Poll.until("B parks again", () -> bThread.getState() == Thread.State.WAITING);
    }

    @Test
    void aReleaseHandsTheLockToASpinningFirstWaiterWithoutWakingIt() {
        probe.onCpuWhen(t -> t == a.task());
        CountDownLatch spinning = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        Op bLock = bargeAgainstWokenWaiter(mutex::lock, turn -> {
            if (turn == 1) {
                spinning.countDown();
                await(go);
            }
        });
        await(spinning); // B lost, asked for a hand-over, and spins on A
        int wakesBefore = probe.wakeCount(b.task());
        a.run(mutex::unlock);
        assertSame(b.task(), mutex.owner(), "the release hands the lock to the spinning first waiter");
        assertEquals(wakesBefore, probe.wakeCount(b.task()), "a spinning waiter picks the hand-over up itself: no wake-up");
        go.countDown();
        awaitOk(bLock);
        assertTrue(mutex.isLocked());
        b.run(mutex::unlock);
        assertFalse(mutex.isLocked());
        assertNull(mutex.owner());
    }

    @Test
    void aSpinnerWhoseOwnerStopsRunningStopsAndSleepsAndTheHandOffWakesIt() {
        probe.onCpuWhen(t -> t == a.task());
        Op bLock = bargeAgainstWokenWaiter(mutex::lock, turn -> {
            if (turn == 3) {
                probe.onCpuWhen(t -> false); // the owner is descheduled or blocks
            }
        });
        awaitBLostAndParked();
        assertEquals(3, turns.get(), "the spin ends at the first look after the owner stopped running");
        assertFalse(bLock.isDone());
        assertSame(a.task(), mutex.owner());
        a.run(mutex::unlock);
        awaitOk(bLock); // a lost wake-up ends here, after DrivenTask.PATIENCE
        assertSame(b.task(), mutex.owner());
        b.run(mutex::unlock);
        assertFalse(mutex.isLocked());
    }

    @Test
    void aFirstWaiterDoesNotSpinOnAnOwnerAsleepInThePlatform() {
        // The real platform's answer: A sleeps on a completion while it holds the mutex.
        Completion held = new Completion(probe, "held");
        Thread[] aThread = new Thread[1];
        Op bLock = queueBehindA(mutex::lock);
        Op aBlocks = a.runUntilBlocked(() -> {
            aThread[0] = Thread.currentThread();
            releaseAndBargeIn();
            held.waitFor();
        }, held);
        Poll.until("A parks in the platform", () -> aThread[0].getState() == Thread.State.WAITING);
        assertFalse(probe.isOnCpu(a.task()), "a task asleep in the platform is not running");
        deliverBsWakeUp(turn -> { });
        awaitBLostAndParked();
        assertEquals(0, turns.get(), "no spin on an owner that sleeps");
        held.complete();
        awaitOk(aBlocks);
        a.run(mutex::unlock);
        awaitOk(bLock);
        assertSame(b.task(), mutex.owner());
        b.run(mutex::unlock);
    }

    @Test
    void anInterruptedSpinnerWithdrawsItsHandOffRequestSoTheNextReleaseFreesTheLock() {
        probe.onCpuWhen(t -> t == a.task());
        AtomicBoolean interrupted = new AtomicBoolean();
        Op bLock = bargeAgainstWokenWaiter(() -> {
            try {
                mutex.lockInterruptible();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        }, turn -> {
            if (turn == 2) {
                probe.interrupt(b.task());  // delivered while B spins: seen once the spin ends
                probe.onCpuWhen(t -> false);
            }
        });
        awaitOk(bLock);
        assertTrue(interrupted.get(), "B gave up");
        assertEquals(List.of(), mutex.waitingTasks());
        assertFalse(mutex.isHandOffRequested(), "the request left with B");
        a.run(mutex::unlock); // with a stale request this would hand the lock to nobody
        assertFalse(mutex.isLocked());
        assertNull(mutex.owner());
        // And the lock works on: a sleeper queued behind a holder is woken by its release.
        a.run(mutex::lock);
        Op again = b.runUntilBlocked(mutex::lock, mutex);
        a.run(mutex::unlock);
        awaitOk(again);
        b.run(mutex::unlock);
        assertFalse(mutex.isLocked());
    }
}
