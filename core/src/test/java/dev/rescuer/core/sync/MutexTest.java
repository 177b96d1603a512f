package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.assertCompletionOrder;
import static dev.rescuer.core.sync.SyncTesting.assertMisuse;
import static dev.rescuer.core.sync.SyncTesting.awaitAnyDone;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Mutex}: mutual exclusion, FIFO wake of sleepers, ownership and the misuse it reports. */
class MutexTest {

    private final Fixture f = new Fixture();
    private final Mutex mutex = new Mutex(f.platform, "&dev->lock", "dev_lock_class");

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void aHeldMutexMakesOtherTasksSleepUntilItIsReleased() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(mutex::lock);
        assertSame(a.task(), mutex.owner());
        assertTrue(mutex.isLocked());

        Op bLock = b.runUntilBlocked(mutex::lock, mutex);
        assertBlockedOn(b, mutex, bLock);
        assertSame(a.task(), mutex.owner(), "the sleeper must not have taken the mutex");
        assertEquals(List.of(b.task()), mutex.waitingTasks());

        a.run(mutex::unlock);
        awaitOk(bLock);
        assertSame(b.task(), mutex.owner());
        assertEquals(List.of(), mutex.waitingTasks());
        b.run(mutex::unlock);
        assertFalse(mutex.isLocked());
        assertNull(mutex.owner());
    }

    @Test
    void tryLockFailsWhileHeldAndSucceedsWhenFree() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(mutex::lock);
        AtomicBoolean got = new AtomicBoolean(true);
        b.run(() -> got.set(mutex.tryLock()));
        assertFalse(got.get(), "tryLock must fail while A holds the mutex");
        a.run(() -> got.set(mutex.tryLock()));
        assertFalse(got.get(), "tryLock by the holder itself returns false (not reentrant)");
        assertSame(a.task(), mutex.owner());
        a.run(mutex::unlock);
        b.run(() -> got.set(mutex.tryLock()));
        assertTrue(got.get(), "tryLock must succeed on a free mutex");
        assertSame(b.task(), mutex.owner());
        assertTrue(b.task().heldPrimitives().contains(mutex));
        b.run(mutex::unlock);
    }

    @Test
    void sleepersAreWokenInArrivalOrder() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        DrivenTask d = f.task("D");
        a.run(mutex::lock);
        Op bLock = b.runUntilBlocked(mutex::lock, mutex);
        Op cLock = c.runUntilBlocked(mutex::lock, mutex);
        Op dLock = d.runUntilBlocked(mutex::lock, mutex);
        assertEquals(List.of(b.task(), c.task(), d.task()), mutex.waitingTasks());

        a.run(mutex::unlock);
        Op first = awaitAnyDone(bLock, cLock, dLock);
        assertSame(bLock, first, "the oldest sleeper must get the mutex first");
        assertSame(b.task(), mutex.owner());
        assertBlockedOn(c, mutex, cLock);
        assertBlockedOn(d, mutex, dLock);

        b.run(mutex::unlock);
        Op second = awaitAnyDone(cLock, dLock);
        assertSame(cLock, second, "C queued before D");
        assertBlockedOn(d, mutex, dLock);

        c.run(mutex::unlock);
        awaitOk(dLock);
        d.run(mutex::unlock);
        assertCompletionOrder(bLock, cLock, dLock);
        assertFalse(mutex.isLocked());
    }

    @Test
    void onlyOneOfManyContendersIsInsideAtATime() {
        // Each task's operation is a whole critical section; a shared slot catches overlap and a list
        // written inside the section records who entered when.
        AtomicReference<Task> inside = new AtomicReference<>();
        AtomicBoolean overlap = new AtomicBoolean();
        List<String> entries = new CopyOnWriteArrayList<>();
        Runnable section = () -> {
            mutex.lock();
            try {
                Task me = f.platform.currentTask();
                if (!inside.compareAndSet(null, me)) {
                    overlap.set(true);
                }
                entries.add(me.name());
                Thread.yield(); // give an intruder a chance to show up
                if (!inside.compareAndSet(me, null)) {
                    overlap.set(true);
                }
            } finally {
                mutex.unlock();
            }
        };
        DrivenTask holder = f.task("holder");
        holder.run(mutex::lock);
        DrivenTask[] ts = {f.task("T1"), f.task("T2"), f.task("T3")};
        Op[] ops = new Op[ts.length];
        for (int i = 0; i < ts.length; i++) {
            ops[i] = ts[i].runUntilBlocked(section, mutex);
        }
        holder.run(mutex::unlock);
        for (Op op : ops) {
            awaitOk(op);
        }
        assertFalse(overlap.get(), "two tasks were inside the mutex at once");
        assertFalse(mutex.isLocked());
        // Each release wakes only the oldest sleeper and nobody else competes, so the sections ran in
        // queueing order.
        assertEquals(List.of("T1", "T2", "T3"), entries);
    }

    @Test
    void isHeldByCurrentTaskIsPerTask() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        AtomicBoolean held = new AtomicBoolean();
        a.run(mutex::lock);
        a.run(() -> held.set(mutex.isHeldByCurrentTask()));
        assertTrue(held.get());
        b.run(() -> held.set(mutex.isHeldByCurrentTask()));
        assertFalse(held.get());
        a.run(mutex::unlock);
        a.run(() -> held.set(mutex.isHeldByCurrentTask()));
        assertFalse(held.get());
    }

    @Test
    void unlockByANonOwnerIsRefusedAndLeavesTheOwnerInPlace() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(mutex::lock);
        assertMisuse(IllegalStateException.class, () -> b.run(mutex::unlock), mutex, b.task(),
                "unlock of", "held by task " + a.task());
        assertSame(a.task(), mutex.owner(), "a refused unlock must not release the mutex");
        assertTrue(a.task().heldPrimitives().contains(mutex));
        a.run(mutex::unlock);
    }

    @Test
    void unlockOfAnUnlockedMutexIsRefused() {
        DrivenTask a = f.task("A");
        assertMisuse(IllegalStateException.class, () -> a.run(mutex::unlock), mutex, a.task(), "not locked");
        assertFalse(mutex.isLocked());
        // Also after a lock/unlock pair: the second unlock is the error.
        a.run(mutex::lock);
        a.run(mutex::unlock);
        assertMisuse(IllegalStateException.class, () -> a.run(mutex::unlock), mutex, a.task(), "not locked");
    }

    @Test
    void recursiveLockIsReportedInsteadOfDeadlocking() {
        DrivenTask a = f.task("A");
        a.run(mutex::lock);
        // Run in the driven task: a regression would block there, and the bounded wait reports it.
        assertMisuse(IllegalStateException.class, () -> a.run(mutex::lock), mutex, a.task(),
                "recursive locking", "already holds");
        assertSame(a.task(), mutex.owner());
        assertEquals(1, a.task().heldPrimitives().stream().filter(p -> p == mutex).count(),
                "the refused lock must not be recorded as a second hold");
        assertEquals(List.of(), mutex.waitingTasks(), "the refused lock must not leave a waiter behind");
        a.run(mutex::unlock);
        assertFalse(mutex.isLocked());
        assertFalse(a.task().holds(mutex));
    }
}
