package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import dev.rescuer.core.testing.ForwardingPlatform;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RwSemaphore}'s contended write path as {@code kernel/locking/rwsem.c}'s, on real threads
 * with a platform that holds back chosen wake-ups (so a woken writer is "on its way" for as long as
 * the test needs) and whose clock moves only when the test moves it ({@code RWSEM_WAIT_TIMEOUT}): a release
 * wakes the first writer, which competes; a running writer may take the freed lock first; a first
 * waiter that waited too long sets {@code HANDOFF}, after which nobody else gets the lock and the
 * next release hands it over; a reader first in line still gets the readers' phase from the release.
 */
class RwSemaphoreContendedTest {

    /**
     * A real platform whose clock moves only when {@link #advance}d (so whether a waiter has waited
     * {@code RWSEM_WAIT_TIMEOUT} never depends on how fast the machine runs the test), and which can
     * hold wake-ups back.
     */
    private static final class ClockPlatform extends ForwardingPlatform {
        private final long start = real.nanoTime();
        private final AtomicLong skew = new AtomicLong();

        void advance(long nanos) {
            skew.addAndGet(nanos);
        }

        @Override
        public long nanoTime() {
            return start + skew.get();
        }

        @Override
        public boolean isCurrentTask(Task task) {
            return real.isCurrentTask(task);
        }

        /**
         * Run once by the next task whose interruptible sleep ends interrupted, after its condition's
         * last evaluation and before it withdraws: the window in which a release can still wake it.
         */
        volatile Runnable onInterrupted;

        @Override
        public boolean awaitInterruptible(dev.rescuer.core.platform.Primitive on, java.util.function.BooleanSupplier condition,
                long deadlineNanos) throws InterruptedException {
            try {
                return real.awaitInterruptible(on, condition, deadlineNanos);
            } catch (InterruptedException e) {
                Runnable hook = onInterrupted;
                onInterrupted = null;
                if (hook != null) {
                    hook.run();
                }
                throw e;
            }
        }
    }

    private final ClockPlatform platform = new ClockPlatform();
    private final RwSemaphore sem = new RwSemaphore(platform, "rw");
    private final AtomicLong sequence = new AtomicLong();
    private final List<DrivenTask> tasks = new ArrayList<>();
    private final DrivenTask a = task("A");
    private final DrivenTask b = task("B");
    private final DrivenTask c = task("C");
    private final DrivenTask d = task("D");

    private DrivenTask task(String name) {
        DrivenTask t = new DrivenTask(platform, name, sequence);
        tasks.add(t);
        return t;
    }

    @AfterEach
    void tearDown() {
        platform.releaseWakes();
        for (DrivenTask t : tasks) {
            t.close();
        }
        platform.close();
    }

    /** A holds the write lock, B sleeps queued for it; then A releases with B's wake-up held back. */
    private Op releaseWhileTheWokenWriterIsOnItsWay() {
        a.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        platform.holdWakesOf(t -> t == b.task());
        int wakes = platform.wakeCount(b.task());
        a.run(sem::upWrite);
        assertEquals(wakes + 1, platform.wakeCount(b.task()), "upWrite wakes the first writer");
        assertNull(sem.writer(), "upWrite frees the lock: the woken writer must take it itself");
        assertEquals(List.of(b.task()), sem.queuedWriters(), "the woken writer stays queued until it has the lock");
        return bOp;
    }

    @Test
    void aRunningWriterTakesTheLockFreedWhileTheWokenWriterHasNotYetRun() {
        Op bOp = releaseWhileTheWokenWriterIsOnItsWay();

        c.run(sem::downWrite); // rwsem_try_write_lock_unqueued: free and no HANDOFF, so C may have it
        assertSame(c.task(), sem.writer(), "a running writer steals the lock past the woken one");
        assertFalse(sem.isHandOffRequested());

        platform.releaseWakes(); // B retries, loses to C, and sleeps again (it has not waited 4 ms)
        assertBlockedOn(b, sem, bOp);
        c.run(sem::upWrite); // wakes B again: B's retry cleared the waking role
        awaitOk(bOp);
        assertSame(b.task(), sem.writer());
        assertFalse(sem.isHandOffRequested());
        b.run(sem::upWrite);
        assertEquals(0, sem.readers());
        assertNull(sem.writer());
        assertTrue(sem.waitingTasks().isEmpty());
    }

    @Test
    void aReaderArrivingWhileTheWokenWriterIsOnItsWayTakesTheFreeLock() {
        Op bOp = releaseWhileTheWokenWriterIsOnItsWay();

        d.run(sem::downRead); // reader optimistic lock stealing: nobody holds it and no HANDOFF
        assertEquals(1, sem.readers(), "a running reader takes the lock freed while the woken writer is on its way");
        assertEquals(List.of(b.task()), sem.waitingTasks());

        platform.releaseWakes(); // B retries, finds the read hold and sleeps again
        assertBlockedOn(b, sem, bOp);
        d.run(sem::upRead); // the last read hold's release wakes B
        awaitOk(bOp);
        assertSame(b.task(), sem.writer());
        b.run(sem::upWrite);
        assertTrue(sem.waitingTasks().isEmpty());
    }

    @Test
    void aReaderDoesNotStealALockOtherReadersHoldWhileAWriterIsQueued() {
        a.run(sem::downRead);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        Op dOp = d.runUntilBlocked(sem::downRead, sem); // writer preference: the _origins_lock rule
        assertEquals(1, sem.readers());
        assertEquals(List.of(b.task(), d.task()), sem.waitingTasks());

        a.run(sem::upRead);
        awaitOk(bOp);
        assertSame(b.task(), sem.writer(), "the queued writer goes before the reader that came after it");
        assertBlockedOn(d, sem, dOp);
        b.run(sem::upWrite);
        awaitOk(dOp);
        d.run(sem::upRead);
    }

    @Test
    void aReaderThatStealsTheLockLetsNoQueuedReaderPastTheWriterFirstInLine() {
        // C writes, B queues to write, D queues to read behind B. C's release wakes B (held back)
        // and A steals the free lock: its RWSEM_WAKE_READ_OWNED finds a writer first and lets
        // nobody in, so D keeps its place behind B.
        c.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        Op dOp = d.runUntilBlocked(sem::downRead, sem);
        platform.holdWakesOf(t -> t == b.task());
        c.run(sem::upWrite);
        a.run(sem::downRead);
        assertEquals(1, sem.readers(), "A stole the free lock");
        assertBlockedOn(d, sem, dOp); // a writer is first in line: RWSEM_WAKE_READ_OWNED lets nobody in
        platform.releaseWakes();
        assertBlockedOn(b, sem, bOp);
        a.run(sem::upRead);
        awaitOk(bOp);
        b.run(sem::upWrite);
        awaitOk(dOp);
        assertEquals(1, sem.readers());
        d.run(sem::upRead);
    }

    @Test
    void aFirstWaiterPastTheWaitTimeoutAsksForAHandOffAndNobodyBargesPastIt() {
        Op bOp = releaseWhileTheWokenWriterIsOnItsWay();
        c.run(sem::downWrite); // C steals the lock, as above

        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1); // B has now waited too long
        platform.releaseWakes(); // B retries, finds the lock held and sets HANDOFF
        Poll.until("B asks for a hand-over", sem::isHandOffRequested);
        assertBlockedOn(b, sem, bOp);
        assertFalse(tryDownRead(d), "no reader while HANDOFF is set");

        c.run(sem::upWrite);
        // The release hands the lock to B: it is never free for a barger in between.
        assertSame(b.task(), sem.writer(), "the release hands the lock to the waiter that asked");
        assertFalse(sem.isHandOffRequested(), "the hand-over clears HANDOFF");
        awaitOk(bOp);
        Op dOp = d.runUntilBlocked(sem::downWrite, sem);
        b.run(sem::upWrite);
        awaitOk(dOp);
        assertSame(d.task(), sem.writer());
        d.run(sem::upWrite);
        assertTrue(sem.waitingTasks().isEmpty());
    }

    @Test
    void aHandOffAskedForWhileReadersHoldTheLockGivesItToThatWriterWhenTheyLeave() {
        // B, first in line, asked for a hand-over while readers hold the lock.
        a.run(sem::downRead);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1);
        platform.wake(b.task()); // a spurious wake-up: B retries, finds it read-held, sets HANDOFF
        Poll.until("B asks for a hand-over", sem::isHandOffRequested);
        Op cOp = c.runUntilBlocked(sem::downWrite, sem); // C may not steal past B's request

        a.run(sem::upRead); // the last reader leaves: the lock goes to B, not to C
        assertSame(b.task(), sem.writer());
        awaitOk(bOp);
        assertBlockedOn(c, sem, cOp);
        b.run(sem::upWrite);
        awaitOk(cOp);
        c.run(sem::upWrite);
    }

    @Test
    void aWriterThatGivesUpWithdrawsItsHandOffRequest() throws InterruptedException {
        a.run(sem::downRead);
        Op bOp = b.runUntilBlocked(() -> {
            try {
                sem.downWriteInterruptible();
            } catch (InterruptedException e) {
                // expected
            }
        }, sem);
        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1);
        platform.wake(b.task());
        Poll.until("B asks for a hand-over", sem::isHandOffRequested);
        platform.interrupt(b.task());
        awaitOk(bOp);
        assertFalse(b.task().holds(sem));
        assertFalse(sem.isHandOffRequested(), "the giver-up clears its HANDOFF");
        assertTrue(tryDownRead(c), "with nobody queued, readers use the fast path again");
        c.run(sem::upRead);
        a.run(sem::upRead);
        assertTrue(tryDownWrite(d));
        d.run(sem::upWrite);
    }

    /**
     * A release that wakes the first writer (giving it {@code WAKING}) after that writer's last retry
     * but before it withdraws: the writer gives the waking role back as it leaves and wakes the next
     * writer ({@code rwsem_del_wake_waiter}), which would otherwise sleep for ever on a free lock.
     */
    @Test
    void aWriterWokenJustBeforeItGivesUpPassesTheWakeUpOnToTheNextWriter() {
        a.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(() -> {
            try {
                sem.downWriteInterruptible();
            } catch (InterruptedException e) {
                // expected
            }
        }, sem);
        Op cOp = c.runUntilBlocked(sem::downWrite, sem);
        int cWakes = platform.wakeCount(c.task());
        int[] bWakesAtRelease = new int[2];
        platform.onInterrupted = () -> {
            bWakesAtRelease[0] = platform.wakeCount(b.task());
            a.run(sem::upWrite); // B is still first and has not withdrawn: this wakes B, not C
            bWakesAtRelease[1] = platform.wakeCount(b.task());
        };
        platform.interrupt(b.task());
        awaitOk(bOp);
        assertEquals(bWakesAtRelease[0] + 1, bWakesAtRelease[1], "the release woke B, which was still first in line");
        assertFalse(b.task().holds(sem));
        awaitOk(cOp);
        assertSame(c.task(), sem.writer(), "B's withdrawal woke C, and C took the free lock");
        assertTrue(platform.wakeCount(c.task()) > cWakes);
        c.run(sem::upWrite);
        assertTrue(sem.waitingTasks().isEmpty());
        assertTrue(tryDownWrite(d), "the word is 0 again: no WAKING left behind");
        d.run(sem::upWrite);
    }

    /** The lock word, read as a test in this package may: only to know when a release has freed it. */
    private static int word(RwSemaphore rw) {
        try {
            java.lang.reflect.Field f = RwSemaphore.class.getDeclaredField("count");
            f.setAccessible(true);
            return f.getInt(rw);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A holds the write lock and reader B, first in line, has waited past the timeout; A releases, and
     * before A's {@code rwsem_mark_wake} runs (the test holds the guard) C steals the free lock. The
     * release then finds a writer in the lock with a reader first in line, and sets {@code HANDOFF}
     * for B ({@code rwsem_mark_wake}'s reader hand-off). Returns B's operation; the guard is free again.
     */
    private Op aStealBetweenTheReleaseAndItsWakeMakesTheFirstReaderAskForAHandOff(Runnable bDownRead) {
        a.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(bDownRead, sem);
        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1);
        Op release;
        sem.guard.lock();
        try {
            release = a.submit(sem::upWrite);
            Poll.until("A's release frees the word", () -> (word(sem) & 1) == 0);
            c.run(sem::downWrite); // rwsem_try_write_lock_unqueued: free, no HANDOFF yet
        } finally {
            sem.guard.unlock();
        }
        awaitOk(release);
        assertSame(c.task(), sem.writer());
        assertTrue(sem.isHandOffRequested(), "the release found a stealer in the lock and B past its timeout");
        assertBlockedOn(b, sem, bOp);
        return bOp;
    }

    /**
     * The same race with a writer first in line: A releases, C steals before A's {@code rwsem_mark_wake}
     * runs, so A's release wakes nobody (the lock is held again). In the kernel that release still wakes
     * B, which finds C in the lock past its timeout and sets {@code HANDOFF}; here the release sets it
     * on B's behalf. Otherwise B, which only looks when woken, could lose this race on every release
     * and never ask: the bounded wait would not hold.
     */
    @Test
    void aFirstWriterPastItsTimeoutGetsAHandOffEvenIfAStealBeatsTheReleasesWakeUp() {
        a.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1);
        Op release;
        sem.guard.lock();
        try {
            release = a.submit(sem::upWrite);
            Poll.until("A's release frees the word", () -> (word(sem) & 1) == 0);
            c.run(sem::downWrite); // steals: free, no HANDOFF
        } finally {
            sem.guard.unlock();
        }
        awaitOk(release);
        assertSame(c.task(), sem.writer());
        assertTrue(sem.isHandOffRequested(), "B has waited past RWSEM_WAIT_TIMEOUT and the lock was stolen from it");
        assertBlockedOn(b, sem, bOp);
        Op dOp = d.runUntilBlocked(sem::downWrite, sem); // no steal past B's request

        c.run(sem::upWrite);
        assertSame(b.task(), sem.writer(), "the next release hands the lock to B");
        assertFalse(sem.isHandOffRequested());
        awaitOk(bOp);
        b.run(sem::upWrite);
        awaitOk(dOp);
        d.run(sem::upWrite);
        assertTrue(sem.waitingTasks().isEmpty());
        assertTrue(tryDownWrite(a), "the word is 0 again");
        a.run(sem::upWrite);
    }

    @Test
    void aFirstReaderThatFindsAStealerAsksForAHandOffAndTheNextReleaseGrantsTheReadersPhase() {
        Op bOp = aStealBetweenTheReleaseAndItsWakeMakesTheFirstReaderAskForAHandOff(sem::downRead);
        Op dOp = d.runUntilBlocked(sem::downWrite, sem); // no steal past B's request
        assertSame(c.task(), sem.writer());

        c.run(sem::upWrite);
        assertEquals(1, sem.readers(), "the release granted B its read hold");
        assertFalse(sem.isHandOffRequested(), "the readers' grant clears HANDOFF");
        awaitOk(bOp);
        assertBlockedOn(d, sem, dOp);
        b.run(sem::upRead);
        awaitOk(dOp);
        assertSame(d.task(), sem.writer());
        d.run(sem::upWrite);
        assertTrue(sem.waitingTasks().isEmpty());
        assertTrue(tryDownWrite(a), "the word is 0 again");
        a.run(sem::upWrite);
    }

    @Test
    void aFirstReaderThatGivesUpWithdrawsTheHandOffAskedForIt() {
        Op bOp = aStealBetweenTheReleaseAndItsWakeMakesTheFirstReaderAskForAHandOff(() -> {
            try {
                sem.downReadInterruptible();
            } catch (InterruptedException e) {
                // expected
            }
        });
        platform.interrupt(b.task());
        awaitOk(bOp);
        assertFalse(b.task().holds(sem));
        assertFalse(sem.isHandOffRequested(), "B left the head of the queue: its HANDOFF goes with it");
        assertTrue(sem.waitingTasks().isEmpty());
        c.run(sem::upWrite);
        assertTrue(tryDownWrite(a), "the word is 0 again");
        a.run(sem::upWrite);
    }

    /**
     * {@code downgrade_write} with a writer first in line that asked for a hand-over: the downgrade
     * lets no reader in ({@code RWSEM_WAKE_READ_OWNED} stops at a writer), {@code HANDOFF} stays, and
     * the downgraded holder's {@code up_read} hands the lock to that writer.
     */
    @Test
    void aDowngradeWithAHandOffRequestedLetsNoReaderPastTheWriterThatAsked() {
        a.run(sem::downWrite);
        Op bOp = b.runUntilBlocked(sem::downWrite, sem);
        platform.advance(RwSemaphore.RWSEM_WAIT_TIMEOUT_NANOS + 1);
        platform.wake(b.task()); // a spurious wake-up: B retries, finds it held, sets HANDOFF
        Poll.until("B asks for a hand-over", sem::isHandOffRequested);
        Op cOp = c.runUntilBlocked(sem::downRead, sem);

        a.run(sem::downgradeWrite);
        assertEquals(1, sem.readers(), "only the downgraded hold");
        assertNull(sem.writer());
        assertTrue(sem.isHandOffRequested(), "the downgrade leaves B's request");
        assertBlockedOn(c, sem, cOp);
        assertFalse(tryDownRead(d), "no reader past the writer that asked");

        a.run(sem::upRead);
        assertSame(b.task(), sem.writer(), "the last read release hands the lock to B");
        awaitOk(bOp);
        assertBlockedOn(c, sem, cOp);
        b.run(sem::upWrite);
        awaitOk(cOp);
        c.run(sem::upRead);
        assertTrue(sem.waitingTasks().isEmpty());
        assertTrue(tryDownWrite(d), "the word is 0 again");
        d.run(sem::upWrite);
    }

    /**
     * {@code downgrade_write} by a writer that stole the lock while the woken writer was on its way
     * ({@code WAKING} set): the woken writer retries, finds the lock read-held, gives the waking role
     * back and sleeps; the downgraded holder's {@code up_read} wakes it again.
     */
    @Test
    void aDowngradeWhileTheWokenWriterIsOnItsWayLeavesItTheNextWakeUp() {
        Op bOp = releaseWhileTheWokenWriterIsOnItsWay();
        c.run(sem::downWrite); // steals past the woken B
        Op dOp = d.runUntilBlocked(sem::downRead, sem);
        c.run(sem::downgradeWrite);
        assertEquals(1, sem.readers(), "the reader queued behind B stays queued");
        assertBlockedOn(d, sem, dOp);

        int bWakes = platform.wakeCount(b.task());
        platform.releaseWakes(); // B retries, loses to the read hold, gives WAKING back and sleeps
        Poll.until("B retried and gave WAKING (8) back", () -> (word(sem) & 8) == 0);
        assertBlockedOn(b, sem, bOp);
        c.run(sem::upRead);
        awaitOk(bOp);
        assertSame(b.task(), sem.writer());
        assertTrue(platform.wakeCount(b.task()) > bWakes, "C's up_read woke B");
        b.run(sem::upWrite);
        awaitOk(dOp);
        d.run(sem::upRead);
        assertTrue(sem.waitingTasks().isEmpty());
        assertTrue(tryDownWrite(a), "the word is 0 again");
        a.run(sem::upWrite);
    }

    @Test
    void aWriteReleaseWithAReaderFirstGrantsTheReadersPhaseAtOnce() {
        a.run(sem::downWrite);
        Op r1 = b.runUntilBlocked(sem::downRead, sem);
        Op w = c.runUntilBlocked(sem::downWrite, sem);
        Op r2 = d.runUntilBlocked(sem::downRead, sem);
        a.run(sem::upWrite);
        // rwsem_mark_wake: the readers' holds are granted by the release itself, not by their retry.
        assertEquals(2, sem.readers(), "both queued readers hold the lock when upWrite returns");
        assertFalse(tryDownWrite(a), "a writer cannot take the read-held lock");
        awaitOk(r1);
        awaitOk(r2);
        assertBlockedOn(c, sem, w);
        b.run(sem::upRead);
        d.run(sem::upRead);
        awaitOk(w);
        assertSame(c.task(), sem.writer());
        c.run(sem::upWrite);
    }

    private boolean tryDownRead(DrivenTask t) {
        boolean[] got = {false};
        t.run(() -> got[0] = sem.tryDownRead());
        return got[0];
    }

    private boolean tryDownWrite(DrivenTask t) {
        boolean[] got = {false};
        t.run(() -> got[0] = sem.tryDownWrite());
        return got[0];
    }
}
