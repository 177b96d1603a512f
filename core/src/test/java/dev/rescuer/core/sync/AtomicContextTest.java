package dev.rescuer.core.sync;

import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.sync.SyncTesting.assertMisuse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sleeping in atomic context. Every blocking call made while holding a {@link SpinLock} throws
 * {@link AtomicContextException} naming the primitive, the operation, the task and the spin lock, even
 * when it would not have had to wait, and leaves the primitive untouched. Non-blocking calls work.
 *
 * <p>Each call runs in a {@link DrivenTask}, so a regression that makes it sleep fails the bounded wait
 * instead of hanging the test.
 */
class AtomicContextTest {

    private final Fixture f = new Fixture();
    private final SpinLock spin = new SpinLock(f.platform, "&q->lock");
    private final DrivenTask a = f.task("A");

    @AfterEach
    void tearDown() {
        f.close();
    }

    /** Runs {@code call} in task A under the spin lock and checks the exception it must throw. */
    private void assertRefusedInAtomic(Primitive p, String op, Runnable call) {
        AtomicInteger depthAfter = new AtomicInteger(-1);
        AtomicBoolean stillHeld = new AtomicBoolean();
        AtomicContextException e = assertMisuse(AtomicContextException.class, () -> a.run(() -> {
            spin.lock();
            try {
                call.run();
            } finally {
                depthAfter.set(a.task().atomicDepth());
                stillHeld.set(spin.owner() == a.task());
                spin.unlock();
            }
        }), p, a.task(), op, "sleeping function called from invalid context", spin.describe(), "atomic depth 1");
        assertSame(p, e.primitive());
        assertEquals(1, depthAfter.get(), "the refused call must not change the atomic depth");
        assertTrue(stillHeld.get());
        assertFalse(a.task().inAtomic());
        assertNull(a.task().waitingOn(), "the task must never have waited");
    }

    @Test
    void mutexLockIsRefusedEvenWhenTheMutexIsFree() {
        Mutex m = new Mutex(f.platform, "m");
        assertRefusedInAtomic(m, "mutex_lock", m::lock);
        assertFalse(m.isLocked(), "the refused lock must not take the mutex");
        assertFalse(a.task().holds(m));
        assertEquals(List.of(), m.waitingTasks());
    }

    @Test
    void mutexLockIsRefusedWhenTheMutexIsHeldInsteadOfWaiting() {
        Mutex m = new Mutex(f.platform, "m");
        DrivenTask holder = f.task("holder");
        holder.run(m::lock);
        assertRefusedInAtomic(m, "mutex_lock", m::lock);
        assertSame(holder.task(), m.owner());
        assertEquals(List.of(), m.waitingTasks(), "the refused lock must not queue");
        holder.run(m::unlock);
    }

    @Test
    void rwSemaphoreDownReadAndDownWriteAreRefusedEvenWhenFree() {
        RwSemaphore rw = new RwSemaphore(f.platform, "rw");
        assertRefusedInAtomic(rw, "down_read", rw::downRead);
        assertRefusedInAtomic(rw, "down_write", rw::downWrite);
        assertEquals(0, rw.readers());
        assertNull(rw.writer());
        assertFalse(a.task().holds(rw));
        assertFalse(rw.hasQueuedWriter());
        assertEquals(List.of(), rw.queuedReaders());
    }

    @Test
    void semaphoreDownAndDownTimeoutAreRefusedEvenWithUnitsLeft() {
        Semaphore sem = new Semaphore(f.platform, "sem", 1);
        assertRefusedInAtomic(sem, "down", sem::down);
        assertRefusedInAtomic(sem, "down_timeout", () -> sem.downTimeout(Duration.ofMillis(20)));
        assertRefusedInAtomic(sem, "down_timeout", () -> sem.downTimeout(Duration.ZERO));
        assertEquals(1, sem.availablePermits(), "the count must be unchanged");
        Semaphore empty = new Semaphore(f.platform, "empty", 0);
        assertRefusedInAtomic(empty, "down", empty::down);
        assertEquals(List.of(), empty.waitingTasks(), "the refused down must not queue");
        assertEquals(0, empty.availablePermits());
    }

    @Test
    void completionWaitsAreRefusedEvenWhenAlreadyCompleted() {
        Completion c = new Completion(f.platform, "c");
        c.complete();
        assertRefusedInAtomic(c, "wait_for_completion", c::waitFor);
        assertRefusedInAtomic(c, "wait_for_completion_timeout", () -> c.waitFor(Duration.ofMillis(20)));
        assertTrue(c.isDone(), "the completion must not have been consumed");
        assertTrue(c.tryWaitFor());
        assertFalse(c.tryWaitFor(), "exactly the one completion was left");
    }

    @Test
    void waitQueueWaitsAreRefusedEvenWhenTheConditionHolds() {
        WaitQueue wq = new WaitQueue(f.platform, "wq");
        AtomicInteger evaluations = new AtomicInteger();
        assertRefusedInAtomic(wq, "wait_event", () -> wq.waitEvent(() -> evaluations.incrementAndGet() > 0));
        assertRefusedInAtomic(wq, "wait_event_exclusive",
                () -> wq.waitEventExclusive(() -> evaluations.incrementAndGet() > 0));
        assertRefusedInAtomic(wq, "wait_event_timeout",
                () -> wq.waitEventTimeout(() -> evaluations.incrementAndGet() > 0, Duration.ofMillis(20)));
        assertEquals(0, evaluations.get(), "the check comes before the condition is even evaluated");
        assertFalse(wq.hasWaiters());
    }

    @Test
    void atomicContextWithoutASpinLockIsRefusedToo() {
        // A BH item or timer callback enters atomic context without a spin lock.
        Mutex m = new Mutex(f.platform, "m");
        AtomicContextException e = assertMisuse(AtomicContextException.class, () -> a.run(() -> {
            a.task().enterAtomic();
            try {
                m.lock();
            } finally {
                a.task().exitAtomic();
            }
        }), m, a.task(), "mutex_lock", "atomic depth 1");
        assertFalse(e.getMessage().contains("holding"), "no spin lock is held: " + e.getMessage());
        assertFalse(m.isLocked());
    }

    @Test
    void nestedSpinLocksAreAllNamed() {
        SpinLock inner = new SpinLock(f.platform, "inner_lock");
        Mutex m = new Mutex(f.platform, "m");
        assertMisuse(AtomicContextException.class, () -> a.run(() -> {
            spin.lock();
            inner.lock();
            try {
                m.lock();
            } finally {
                inner.unlock();
                spin.unlock();
            }
        }), m, a.task(), "atomic depth 2", spin.describe(), inner.describe());
        assertFalse(m.isLocked());
    }

    @Test
    void nonBlockingCallsAreAllowedInAtomicContext() {
        Mutex m = new Mutex(f.platform, "m");
        RwSemaphore rw = new RwSemaphore(f.platform, "rw");
        RwSemaphore rw2 = new RwSemaphore(f.platform, "rw2");
        Semaphore sem = new Semaphore(f.platform, "sem", 1);
        Completion c = new Completion(f.platform, "c");
        Completion all = new Completion(f.platform, "all");
        WaitQueue wq = new WaitQueue(f.platform, "wq");
        AtomicBoolean ok = new AtomicBoolean();
        a.run(() -> {
            spin.lock();
            try {
                boolean r = m.tryLock();
                m.unlock();
                r &= rw.tryDownRead();
                rw.upRead();
                r &= rw2.tryDownWrite();
                rw2.downgradeWrite();
                rw2.upRead();
                r &= sem.tryDown();
                sem.up();
                c.complete();
                r &= c.tryWaitFor();
                all.completeAll();
                r &= all.isDone();
                wq.wakeUp();
                wq.wakeUpAll();
                ok.set(r);
            } finally {
                spin.unlock();
            }
        });
        assertTrue(ok.get(), "every try-operation on a free primitive succeeds in atomic context");
        assertFalse(m.isLocked());
        assertEquals(0, rw.readers());
        assertEquals(0, rw2.readers());
        assertEquals(1, sem.availablePermits());
        assertFalse(c.isDone());
        assertEquals(List.of(), a.task().heldPrimitives());
    }

    @Test
    void upAndCompleteFromAtomicContextWakeSleepersInOtherTasks() {
        Semaphore sem = new Semaphore(f.platform, "sem", 0);
        Completion c = new Completion(f.platform, "c");
        DrivenTask sleeper = f.task("sleeper");
        DrivenTask.Op down = sleeper.runUntilBlocked(sem::down, sem);
        a.run(() -> {
            spin.lock();
            try {
                sem.up();
            } finally {
                spin.unlock();
            }
        });
        SyncTesting.awaitOk(down);
        DrivenTask.Op wait = sleeper.runUntilBlocked(c::waitFor, c);
        a.run(() -> {
            spin.lock();
            try {
                c.complete();
            } finally {
                spin.unlock();
            }
        });
        SyncTesting.awaitOk(wait);
    }
}
