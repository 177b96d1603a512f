package dev.rescuer.core.sync;

import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReadWriteLock;

import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Mutex#asLock()} and {@link RwSemaphore#asReadWriteLock()} on real threads: the JDK's
 * interfaces over the primitives, with the interface's rules for interrupts on entry, and conditions
 * on a wait queue.
 */
class LockAdaptersTest {

    private final Fixture f = new Fixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void aMutexAsLockIsTheMutex() {
        Mutex mutex = new Mutex(f.platform, "m");
        Lock lock = mutex.asLock();
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(lock::lock);
        assertSame(a.task(), mutex.owner());
        AtomicBoolean got = new AtomicBoolean(true);
        b.run(() -> got.set(lock.tryLock()));
        assertFalse(got.get());
        b.run(() -> {
            try {
                got.set(lock.tryLock(10, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertFalse(got.get());
        Op bLock = b.runUntilBlocked(lock::lock, mutex);
        a.run(lock::unlock);
        awaitOk(bLock);
        assertSame(b.task(), mutex.owner());
        assertThrows(IllegalStateException.class, () -> a.run(lock::unlock), "only the holder unlocks");
        b.run(lock::unlock);
    }

    @Test
    void lockInterruptiblyThrowsAtOnceWhenInterruptedOnEntryEvenIfTheLockIsFree() {
        Mutex mutex = new Mutex(f.platform, "m");
        Lock lock = mutex.asLock();
        DrivenTask a = f.task("A");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        a.run(() -> {
            Thread.currentThread().interrupt();
            try {
                lock.lockInterruptibly();
            } catch (InterruptedException e) {
                thrown.set(e);
            }
        });
        assertInstanceOf(InterruptedException.class, thrown.get());
        assertFalse(mutex.isLocked(), "the Lock contract: interrupted on entry, the lock is not taken");
        a.run(() -> assertFalse(Thread.interrupted(), "and the interrupt is consumed"));
    }

    @Test
    void aConditionReleasesTheLockWhileItWaitsAndReturnsHoldingItAfterASignal() {
        Mutex mutex = new Mutex(f.platform, "m");
        Lock lock = mutex.asLock();
        Condition ready = lock.newCondition();
        AtomicBoolean flag = new AtomicBoolean();
        AtomicBoolean heldOnReturn = new AtomicBoolean();
        DrivenTask waiter = f.task("waiter");
        DrivenTask signaller = f.task("signaller");
        Op w = waiter.submit(() -> {
            lock.lock();
            try {
                while (!flag.get()) {
                    ready.awaitUninterruptibly();
                }
                heldOnReturn.set(mutex.isHeldByCurrentTask());
            } finally {
                lock.unlock();
            }
        });
        Poll.until("the waiter sleeps on the condition", () -> waiter.task().waitingOn() != null
                && waiter.task().waitingOn().name().startsWith("condition of"));
        assertFalse(mutex.isLocked(), "await released the lock");
        signaller.run(() -> {
            lock.lock();
            try {
                flag.set(true);
                ready.signal();
            } finally {
                lock.unlock();
            }
        });
        awaitOk(w);
        assertTrue(heldOnReturn.get());
        assertThrows(IllegalMonitorStateException.class, () -> signaller.run(ready::signal),
                "signalling without holding the lock is refused");
    }

    @Test
    void signalWakesOneWaiterAndSignalAllTheRest() {
        Mutex mutex = new Mutex(f.platform, "m");
        Lock lock = mutex.asLock();
        Condition cond = lock.newCondition();
        AtomicInteger returned = new AtomicInteger();
        DrivenTask w1 = f.task("w1");
        DrivenTask w2 = f.task("w2");
        DrivenTask s = f.task("s");
        Runnable await = () -> {
            lock.lock();
            try {
                cond.awaitUninterruptibly();
                returned.incrementAndGet();
            } finally {
                lock.unlock();
            }
        };
        Op o1 = w1.submit(await);
        Poll.until("w1 waits", () -> w1.task().waitingOn() != null);
        Op o2 = w2.submit(await);
        Poll.until("w2 waits", () -> w2.task().waitingOn() != null);
        Runnable signal = () -> {
            lock.lock();
            try {
                cond.signal();
            } finally {
                lock.unlock();
            }
        };
        s.run(signal);
        Op first = SyncTesting.awaitAnyDone(o1, o2);
        assertSame(o1, first, "the first waiter in line is woken");
        assertEquals(1, returned.get());
        assertFalse(o2.isDone());
        assertTrue(w2.task().waitingOn().name().startsWith("condition of"), "one signal wakes one waiter");
        s.run(() -> {
            lock.lock();
            try {
                cond.signalAll();
            } finally {
                lock.unlock();
            }
        });
        awaitOk(o2);
        assertEquals(2, returned.get());
    }

    @Test
    void anInterruptedAwaitThrowsHoldingTheLockAgainAndATimedOneReturnsFalse() {
        Mutex mutex = new Mutex(f.platform, "m");
        Lock lock = mutex.asLock();
        Condition cond = lock.newCondition();
        DrivenTask w = f.task("w");
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean heldInCatch = new AtomicBoolean();
        Op op = w.submit(() -> {
            lock.lock();
            try {
                cond.await();
            } catch (InterruptedException e) {
                thrown.set(e);
                heldInCatch.set(mutex.isHeldByCurrentTask());
            } finally {
                lock.unlock();
            }
        });
        Poll.until("w waits", () -> w.task().waitingOn() != null && w.task().waitingOn().name().startsWith("condition of"));
        f.platform.interrupt(w.task());
        awaitOk(op);
        assertInstanceOf(InterruptedException.class, thrown.get());
        assertTrue(heldInCatch.get(), "await takes the lock again before it throws");
        AtomicBoolean signalled = new AtomicBoolean(true);
        w.run(() -> {
            lock.lock();
            try {
                signalled.set(cond.await(5, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                lock.unlock();
            }
        });
        assertFalse(signalled.get(), "nobody signalled");
        assertThrows(UnsupportedOperationException.class, () -> cond.awaitUntil(new java.util.Date()));
    }

    @Test
    void aRwSemaphoreAsReadWriteLockSharesReadsExcludesWritesAndHasConditionsOnlyForWrite() {
        RwSemaphore sem = new RwSemaphore(f.platform, "rw");
        ReadWriteLock rw = sem.asReadWriteLock();
        DrivenTask r1 = f.task("r1");
        DrivenTask r2 = f.task("r2");
        DrivenTask wr = f.task("writer");
        r1.run(rw.readLock()::lock);
        r2.run(rw.readLock()::lock);
        assertEquals(2, sem.readers());
        Op w = wr.runUntilBlocked(rw.writeLock()::lock, sem);
        AtomicBoolean got = new AtomicBoolean(true);
        DrivenTask r3 = f.task("r3");
        r3.run(() -> got.set(rw.readLock().tryLock()));
        assertFalse(got.get(), "a queued writer keeps new readers out");
        r1.run(rw.readLock()::unlock);
        r2.run(rw.readLock()::unlock);
        awaitOk(w);
        assertSame(wr.task(), sem.writer());
        assertThrows(UnsupportedOperationException.class, () -> rw.readLock().newCondition());
        Condition c = rw.writeLock().newCondition();
        AtomicBoolean timedOut = new AtomicBoolean();
        wr.run(() -> {
            try {
                timedOut.set(!c.await(1, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(timedOut.get());
        assertSame(wr.task(), sem.writer(), "the write lock is held again after await");
        wr.run(rw.writeLock()::unlock);
        assertNull(sem.writer());
        assertEquals(List.of(), sem.waitingTasks());
    }
}
