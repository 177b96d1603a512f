package dev.rescuer.core.sync;

import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.assertCompletionOrder;
import static dev.rescuer.core.sync.SyncTesting.assertMisuse;
import static dev.rescuer.core.sync.SyncTesting.assertNotWaiting;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RwSemaphore}: shared readers, an exclusive writer, the phase-fair hand-over of
 * {@code rwsem_mark_wake}, downgrade, misuse, and
 * above all the kernel's writer preference (a queued writer blocks new readers).
 */
class RwSemaphoreTest {

    private final Fixture f = new Fixture();
    private final RwSemaphore sem = new RwSemaphore(f.platform, "_origins_lock");

    @AfterEach
    void tearDown() {
        f.close();
    }

    private boolean tryDownRead(DrivenTask t) {
        AtomicBoolean got = new AtomicBoolean();
        t.run(() -> got.set(sem.tryDownRead()));
        return got.get();
    }

    private boolean tryDownWrite(DrivenTask t) {
        AtomicBoolean got = new AtomicBoolean();
        t.run(() -> got.set(sem.tryDownWrite()));
        return got.get();
    }

    // ------------------------------------------------------------------ basic modes

    @Test
    void manyReadersHoldItTogether() {
        DrivenTask r1 = f.task("R1");
        DrivenTask r2 = f.task("R2");
        DrivenTask r3 = f.task("R3");
        r1.run(sem::downRead);
        r2.run(sem::downRead);
        assertTrue(tryDownRead(r3));
        assertEquals(3, sem.readers());
        assertNull(sem.writer());
        for (DrivenTask r : List.of(r1, r2, r3)) {
            assertTrue(r.task().holds(sem), r.task() + " should record its read hold");
        }
        r1.run(sem::upRead);
        r2.run(sem::upRead);
        r3.run(sem::upRead);
        assertEquals(0, sem.readers());
        assertFalse(r1.task().holds(sem));
    }

    @Test
    void aWriterExcludesReadersAndOtherWriters() {
        DrivenTask w = f.task("W");
        DrivenTask r = f.task("R");
        DrivenTask w2 = f.task("W2");
        w.run(sem::downWrite);
        assertSame(w.task(), sem.writer());
        assertFalse(tryDownRead(r), "no reader while a writer holds it");
        assertFalse(tryDownWrite(w2), "no second writer while a writer holds it");

        Op rOp = r.runUntilBlocked(sem::downRead, sem);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        assertEquals(List.of(r.task()), sem.queuedReaders());
        assertEquals(List.of(w2.task()), sem.queuedWriters());

        w.run(sem::upWrite);
        // The reader was first in line: it gets it, and the writer behind it keeps waiting.
        awaitOk(rOp);
        assertEquals(1, sem.readers());
        assertNull(sem.writer());
        assertBlockedOn(w2, sem, w2Op);

        r.run(sem::upRead);
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer());
        w2.run(sem::upWrite);
        assertNull(sem.writer());
        assertEquals(0, sem.readers());
    }

    @Test
    void aWriterWaitsForEveryReaderToLeave() {
        DrivenTask r1 = f.task("R1");
        DrivenTask r2 = f.task("R2");
        DrivenTask w = f.task("W");
        r1.run(sem::downRead);
        r2.run(sem::downRead);
        Op wOp = w.runUntilBlocked(sem::downWrite, sem);
        r1.run(sem::upRead);
        assertBlockedOn(w, sem, wOp); // R2 still reads
        assertEquals(1, sem.readers());
        assertNull(sem.writer());
        r2.run(sem::upRead);
        awaitOk(wOp);
        assertSame(w.task(), sem.writer());
        assertFalse(sem.hasQueuedWriter());
        w.run(sem::upWrite);
    }

    // ------------------------------------------------------------------ writer preference

    @Test
    void aQueuedWriterBlocksNewReadersEvenWhileTheLockIsOnlyReadHeld() {
        DrivenTask r1 = f.task("R1");
        DrivenTask w = f.task("W");
        DrivenTask r2 = f.task("R2");

        r1.run(sem::downRead);
        Op wOp = w.runUntilBlocked(sem::downWrite, sem);
        assertTrue(sem.hasQueuedWriter());
        assertEquals(1, sem.readers());

        // The lock is only read-held, yet the new reader must queue behind the writer.
        Op r2Op = r2.runUntilBlocked(sem::downRead, sem);
        assertBlockedOn(r2, sem, r2Op);
        assertEquals(1, sem.readers(), "R2 must not have joined the readers");
        assertFalse(r2.task().holds(sem));
        assertFalse(tryDownRead(f.task("R3")), "tryDownRead must fail while a writer is queued");
        assertEquals(1, sem.readers());

        r1.run(sem::upRead);
        awaitOk(wOp);
        assertSame(w.task(), sem.writer(), "the writer goes before the reader that arrived after it");
        assertBlockedOn(r2, sem, r2Op);
        assertEquals(List.of(r2.task()), sem.queuedReaders());

        w.run(sem::upWrite);
        awaitOk(r2Op);
        assertNull(sem.writer());
        assertEquals(1, sem.readers());
        assertTrue(r2.task().holds(sem));
        assertCompletionOrder(wOp, r2Op);
        r2.run(sem::upRead);
    }

    @Test
    void tryOperationsFailWhileAWriterIsQueuedAndWorkAgainOnceItIsServed() {
        DrivenTask r1 = f.task("R1");
        DrivenTask w = f.task("W");
        DrivenTask other = f.task("other");
        r1.run(sem::downRead);
        Op wOp = w.runUntilBlocked(sem::downWrite, sem);
        assertFalse(tryDownRead(other), "a queued writer blocks new readers, also for tryDownRead");
        assertFalse(tryDownWrite(other));
        assertFalse(other.task().holds(sem));
        assertEquals(1, sem.readers());
        r1.run(sem::upRead);
        awaitOk(wOp);
        w.run(sem::upWrite);
        // Free and nobody queued: both try-operations work again.
        assertTrue(tryDownWrite(other));
        other.run(sem::upWrite);
        assertTrue(tryDownRead(other));
        other.run(sem::upRead);
    }

    // ------------------------------------------------------------------ phase-fair hand-over (rwsem_mark_wake)

    @Test
    void releasingTheWriteLockLetsInEveryQueuedReaderAlsoThoseBehindAWriter() {
        DrivenTask w1 = f.task("W1");
        DrivenTask ra = f.task("Ra");
        DrivenTask rb = f.task("Rb");
        DrivenTask w2 = f.task("W2");
        DrivenTask rc = f.task("Rc");

        w1.run(sem::downWrite);
        Op raOp = ra.runUntilBlocked(sem::downRead, sem);
        Op rbOp = rb.runUntilBlocked(sem::downRead, sem);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        Op rcOp = rc.runUntilBlocked(sem::downRead, sem);
        assertEquals(List.of(ra.task(), rb.task(), rc.task()), sem.queuedReaders());
        assertEquals(List.of(w2.task()), sem.queuedWriters());

        w1.run(sem::upWrite);
        // The hand-over happens inside upWrite: the state is exact as soon as it returns.
        assertEquals(3, sem.readers(), "the first waiter is a reader: Ra, Rb and Rc (queued behind W2) are let in together");
        assertEquals(List.of(), sem.queuedReaders());
        assertEquals(List.of(w2.task()), sem.queuedWriters(), "W2 keeps its place");
        awaitOk(raOp);
        awaitOk(rbOp);
        awaitOk(rcOp);
        assertBlockedOn(w2, sem, w2Op);

        ra.run(sem::upRead);
        rc.run(sem::upRead);
        assertBlockedOn(w2, sem, w2Op);
        rb.run(sem::upRead);
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer());
        w2.run(sem::upWrite);
        assertCompletionOrder(rcOp, w2Op);
    }

    @Test
    void aWriterFirstInLineGetsTheLockAloneAndReadersBehindItWait() {
        DrivenTask r0 = f.task("R0");
        DrivenTask w = f.task("W");
        DrivenTask r1 = f.task("R1");
        DrivenTask w2 = f.task("W2");
        DrivenTask r2 = f.task("R2");
        r0.run(sem::downRead);
        Op wOp = w.runUntilBlocked(sem::downWrite, sem);
        Op r1Op = r1.runUntilBlocked(sem::downRead, sem);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        Op r2Op = r2.runUntilBlocked(sem::downRead, sem);

        r0.run(sem::upRead);
        awaitOk(wOp);
        assertSame(w.task(), sem.writer());
        assertEquals(0, sem.readers());
        assertEquals(List.of(r1.task(), r2.task()), sem.queuedReaders(), "no reader is let in with a writer");
        assertEquals(List.of(w2.task()), sem.queuedWriters());

        w.run(sem::upWrite); // now a reader is first: both readers go in, W2 stays
        awaitOk(r1Op);
        awaitOk(r2Op);
        assertEquals(2, sem.readers());
        assertBlockedOn(w2, sem, w2Op);
        r1.run(sem::upRead);
        r2.run(sem::upRead);
        awaitOk(w2Op);
        w2.run(sem::upWrite);
    }

    @Test
    void oneWakeUpLetsInAtMost256ReadersAndALaterReaderArrivalLetsInTheRest() {
        int n = RwSemaphore.MAX_READERS_WAKEUP + 1;
        DrivenTask w = f.task("W");
        w.run(sem::downWrite);
        List<DrivenTask> readers = new java.util.ArrayList<>();
        List<Op> ops = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            DrivenTask r = f.task("R" + i);
            readers.add(r);
            ops.add(r.runUntilBlocked(sem::downRead, sem));
        }
        DrivenTask w2 = f.task("W2");
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);

        w.run(sem::upWrite);
        assertEquals(RwSemaphore.MAX_READERS_WAKEUP, sem.readers(), "one wake-up grants MAX_READERS_WAKEUP readers");
        DrivenTask last = readers.get(n - 1);
        assertEquals(List.of(last.task()), sem.queuedReaders(), "the reader beyond the cap keeps waiting");
        assertBlockedOn(last, sem, ops.get(n - 1));
        for (int i = 0; i < n - 1; i++) {
            awaitOk(ops.get(i));
        }

        // rwsem_cond_wake_waiter: a reader arriving while readers hold the lock and a reader is first in
        // line wakes the readers, itself included, even though W2 is queued.
        DrivenTask late = f.task("Rlate");
        Op lateOp = late.submit(sem::downRead);
        awaitOk(lateOp);
        awaitOk(ops.get(n - 1));
        assertEquals(n + 1, sem.readers());
        assertEquals(List.of(w2.task()), sem.queuedWriters());

        late.run(sem::upRead);
        for (DrivenTask r : readers) {
            r.run(sem::upRead);
        }
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer());
        w2.run(sem::upWrite);
    }

    @Test
    void aNewReaderWaitsBehindAQueuedWriterWhileAWriterHoldsTheLock() {
        DrivenTask w1 = f.task("W1");
        DrivenTask w2 = f.task("W2");
        DrivenTask r = f.task("R");
        w1.run(sem::downWrite);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        Op rOp = r.runUntilBlocked(sem::downRead, sem);
        w1.run(sem::upWrite);
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer(), "the writer queued first gets the lock; the later reader does not overtake it");
        assertBlockedOn(r, sem, rOp);
        w2.run(sem::upWrite);
        awaitOk(rOp);
        r.run(sem::upRead);
        assertCompletionOrder(w2Op, rOp);
    }

    @Test
    void writersAreServedInArrivalOrder() {
        DrivenTask w1 = f.task("W1");
        DrivenTask w2 = f.task("W2");
        DrivenTask w3 = f.task("W3");
        w1.run(sem::downWrite);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        Op w3Op = w3.runUntilBlocked(sem::downWrite, sem);
        assertEquals(List.of(w2.task(), w3.task()), sem.queuedWriters());
        w1.run(sem::upWrite);
        // upWrite wakes only the oldest writer (rwsem_mark_wake), which then takes the lock itself.
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer(), "the oldest writer, woken by upWrite, took the lock");
        assertBlockedOn(w3, sem, w3Op);
        w2.run(sem::upWrite);
        awaitOk(w3Op);
        w3.run(sem::upWrite);
        assertCompletionOrder(w2Op, w3Op);
    }

    // ------------------------------------------------------------------ downgrade

    @Test
    void downgradeWriteKeepsTheLockAndLetsInEveryQueuedReaderButNotTheQueuedWriter() {
        DrivenTask w = f.task("W");
        DrivenTask r1 = f.task("R1");
        DrivenTask w2 = f.task("W2");
        DrivenTask r2 = f.task("R2");
        w.run(sem::downWrite);
        Op r1Op = r1.runUntilBlocked(sem::downRead, sem);
        Op w2Op = w2.runUntilBlocked(sem::downWrite, sem);
        Op r2Op = r2.runUntilBlocked(sem::downRead, sem);

        w.run(sem::downgradeWrite);
        assertNull(sem.writer());
        assertEquals(3, sem.readers(), "W now reads, and R1 and R2 (queued behind W2) join it (RWSEM_WAKE_READ_OWNED)");
        assertTrue(w.task().holds(sem));
        awaitOk(r1Op);
        awaitOk(r2Op);
        assertBlockedOn(w2, sem, w2Op);

        // W holds a read hold now: upWrite is misuse, upRead is right.
        assertMisuse(IllegalStateException.class, () -> w.run(sem::upWrite), sem, w.task(), "up_write", "not write-locked");
        w.run(sem::upRead);
        assertFalse(w.task().holds(sem));
        assertBlockedOn(w2, sem, w2Op);
        r1.run(sem::upRead);
        assertBlockedOn(w2, sem, w2Op);
        r2.run(sem::upRead);
        awaitOk(w2Op);
        assertSame(w2.task(), sem.writer());
        w2.run(sem::upWrite);
        assertEquals(0, sem.readers());
    }

    @Test
    void downgradeWriteWithNobodyQueuedLeavesASingleReader() {
        DrivenTask w = f.task("W");
        DrivenTask other = f.task("other");
        w.run(sem::downWrite);
        w.run(sem::downgradeWrite);
        assertEquals(1, sem.readers());
        assertNull(sem.writer());
        assertTrue(tryDownRead(other), "other readers may join after a downgrade");
        assertFalse(tryDownWrite(other), "but no writer while read-held");
        other.run(sem::upRead);
        w.run(sem::upRead);
        assertEquals(0, sem.readers());
        assertTrue(tryDownWrite(other));
        other.run(sem::upWrite);
    }

    @Test
    void downgradeWriteByANonWriterIsRefused() {
        DrivenTask r = f.task("R");
        DrivenTask w = f.task("W");
        assertMisuse(IllegalStateException.class, () -> r.run(sem::downgradeWrite), sem, r.task(),
                "downgrade_write", "not write-locked");
        w.run(sem::downWrite);
        assertMisuse(IllegalStateException.class, () -> r.run(sem::downgradeWrite), sem, r.task(),
                "downgrade_write", "write-locked by task " + w.task());
        assertSame(w.task(), sem.writer());
        w.run(sem::upWrite);
    }

    // ------------------------------------------------------------------ misuse

    @Test
    void upReadWithoutHoldingIsRefused() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        assertMisuse(IllegalStateException.class, () -> a.run(sem::upRead), sem, a.task(),
                "up_read", "does not hold it for read");
        b.run(sem::downRead);
        assertMisuse(IllegalStateException.class, () -> a.run(sem::upRead), sem, a.task(),
                "up_read", "does not hold it for read");
        assertEquals(1, sem.readers(), "a refused up_read must not drop somebody else's hold");
        b.run(sem::upRead);
    }

    @Test
    void upReadByTheWriterIsRefused() {
        DrivenTask w = f.task("W");
        w.run(sem::downWrite);
        assertMisuse(IllegalStateException.class, () -> w.run(sem::upRead), sem, w.task(),
                "up_read", "holds it for write");
        assertSame(w.task(), sem.writer());
        w.run(sem::upWrite);
    }

    @Test
    void upWriteByANonWriterIsRefused() {
        DrivenTask w = f.task("W");
        DrivenTask r = f.task("R");
        assertMisuse(IllegalStateException.class, () -> r.run(sem::upWrite), sem, r.task(),
                "up_write", "not write-locked");
        w.run(sem::downWrite);
        assertMisuse(IllegalStateException.class, () -> r.run(sem::upWrite), sem, r.task(),
                "up_write", "write-locked by task " + w.task());
        assertSame(w.task(), sem.writer(), "a refused up_write must not release the writer's lock");
        w.run(sem::upWrite);
        r.run(sem::downRead);
        assertMisuse(IllegalStateException.class, () -> r.run(sem::upWrite), sem, r.task(), "up_write");
        assertEquals(1, sem.readers());
        r.run(sem::upRead);
    }

    @Test
    void downWriteWhileHoldingItForReadIsRefused() {
        DrivenTask r = f.task("R");
        r.run(sem::downRead);
        assertMisuse(IllegalStateException.class, () -> r.run(sem::downWrite), sem, r.task(),
                "down_write", "already holds it for read", "deadlock");
        assertEquals(1, sem.readers());
        assertFalse(sem.hasQueuedWriter(), "the refused down_write must not stay queued");
        r.run(sem::upRead);
        assertEquals(0, sem.readers());
    }

    @Test
    void downWriteWhileHoldingItForWriteIsRefused() {
        DrivenTask w = f.task("W");
        w.run(sem::downWrite);
        assertMisuse(IllegalStateException.class, () -> w.run(sem::downWrite), sem, w.task(),
                "down_write", "already holds it for write");
        assertSame(w.task(), sem.writer());
        w.run(sem::upWrite);
        assertNull(sem.writer());
    }

    @Test
    void downReadWhileHoldingItForWriteIsRefused() {
        DrivenTask w = f.task("W");
        w.run(sem::downWrite);
        assertMisuse(IllegalStateException.class, () -> w.run(sem::downRead), sem, w.task(),
                "down_read", "holds it for write");
        assertEquals(0, sem.readers());
        assertEquals(List.of(), sem.queuedReaders());
        w.run(sem::upWrite);
    }

    @Test
    void recursiveDownReadIsAllowedWhileNoWriterIsQueued() {
        DrivenTask r = f.task("R");
        r.run(sem::downRead);
        r.run(sem::downRead);
        assertEquals(2, sem.readers());
        r.run(sem::upRead);
        assertTrue(r.task().holds(sem), "one read hold is left");
        r.run(sem::upRead);
        assertFalse(r.task().holds(sem));
        assertEquals(0, sem.readers());
    }

    @Test
    void recursiveDownReadWhileAWriterIsQueuedIsReportedInsteadOfDeadlocking() {
        DrivenTask r = f.task("R");
        DrivenTask w = f.task("W");
        r.run(sem::downRead);
        Op wOp = w.runUntilBlocked(sem::downWrite, sem);
        assertMisuse(IllegalStateException.class, () -> r.run(sem::downRead), sem, r.task(),
                "recursive down_read", "writer is queued");
        assertNotWaiting(r);
        assertEquals(1, sem.readers());
        assertEquals(List.of(), sem.queuedReaders(), "the refused read must not be queued");
        r.run(sem::upRead);
        awaitOk(wOp);
        w.run(sem::upWrite);
    }
}
