package dev.rescuer.core.sync;

import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.assertCompletionOrder;
import static dev.rescuer.core.sync.SyncTesting.assertNotWaiting;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Semaphore}: counting, FIFO direct hand-over, timeouts, and ownerless {@code up()}. */
class SemaphoreTest {

    private static final Duration SHORT = Duration.ofMillis(20);

    private final Fixture f = new Fixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void countsUnitsDownToZeroThenSleeps() {
        Semaphore sem = new Semaphore(f.platform, "cow_count", 2);
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(sem::down);
        assertEquals(1, sem.availablePermits());
        a.run(sem::down);
        assertEquals(0, sem.availablePermits());
        Op bOp = b.runUntilBlocked(sem::down, sem);
        assertEquals(List.of(b.task()), sem.waitingTasks());
        // Any task may give a unit back, not only the one that took it.
        sem.up();
        awaitOk(bOp);
        assertEquals(0, sem.availablePermits(), "the unit went straight to the sleeper, not to the count");
        assertEquals(List.of(), sem.waitingTasks());
        sem.up();
        sem.up();
        assertEquals(2, sem.availablePermits());
    }

    @Test
    void upHandsItsUnitToTheOldestSleeperSoALaterDownCannotOvertake() {
        Semaphore sem = new Semaphore(f.platform, "throttle", 0);
        DrivenTask t1 = f.task("T1");
        DrivenTask t2 = f.task("T2");
        DrivenTask t3 = f.task("T3");
        DrivenTask late = f.task("late");
        Op o1 = t1.runUntilBlocked(sem::down, sem);
        Op o2 = t2.runUntilBlocked(sem::down, sem);
        Op o3 = t3.runUntilBlocked(sem::down, sem);

        sem.up();
        // The grant happens inside up(): T1 left the queue and the count stayed at zero.
        assertEquals(List.of(t2.task(), t3.task()), sem.waitingTasks());
        assertEquals(0, sem.availablePermits());
        AtomicBoolean lateGot = new AtomicBoolean(true);
        late.run(() -> lateGot.set(sem.tryDown()));
        assertFalse(lateGot.get(), "a newcomer must not take the unit granted to the sleeper");
        awaitOk(o1);
        assertBlockedOn(t2, sem, o2);
        assertBlockedOn(t3, sem, o3);

        sem.up();
        assertEquals(List.of(t3.task()), sem.waitingTasks());
        awaitOk(o2);
        assertBlockedOn(t3, sem, o3);
        sem.up();
        awaitOk(o3);
        assertCompletionOrder(o1, o2, o3);
        assertEquals(0, sem.availablePermits());
    }

    @Test
    void tryDownTakesAUnitOnlyWhenOneIsLeft() {
        Semaphore sem = new Semaphore(f.platform, "s", 1);
        assertTrue(sem.tryDown());
        assertEquals(0, sem.availablePermits());
        assertFalse(sem.tryDown());
        assertEquals(0, sem.availablePermits(), "a failed tryDown must not drive the count negative");
        sem.up();
        assertTrue(sem.tryDown());
    }

    @Test
    void downTimeoutReturnsFalseWhenNoUnitArrivesAndLeavesNoWaiterBehind() {
        Semaphore sem = new Semaphore(f.platform, "s", 0);
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean(true);
        a.run(() -> got.set(sem.downTimeout(SHORT)));
        assertFalse(got.get());
        assertEquals(List.of(), sem.waitingTasks(), "the timed-out waiter must be withdrawn");
        assertNotWaiting(a);
        // The withdrawn waiter must not swallow the next unit.
        sem.up();
        assertEquals(1, sem.availablePermits());
    }

    @Test
    void downTimeoutWithZeroTimeoutIsATryDown() {
        Semaphore sem = new Semaphore(f.platform, "s", 1);
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean();
        a.run(() -> got.set(sem.downTimeout(Duration.ZERO)));
        assertTrue(got.get());
        a.run(() -> got.set(sem.downTimeout(Duration.ZERO)));
        assertFalse(got.get());
        assertEquals(0, sem.availablePermits());
        assertEquals(List.of(), sem.waitingTasks());
    }

    @Test
    void downTimeoutReturnsTrueWhenUpArrivesInTime() {
        Semaphore sem = new Semaphore(f.platform, "s", 0);
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean();
        // A long timeout: the up() below, not the clock, ends the wait.
        Op op = a.runUntilBlocked(() -> got.set(sem.downTimeout(Duration.ofMinutes(5))), sem);
        sem.up();
        awaitOk(op);
        assertTrue(got.get());
        assertEquals(0, sem.availablePermits(), "the unit was consumed by the timed waiter");
    }

    @Test
    void aTimedOutWaiterDoesNotDisturbTheQueueBehindIt() {
        Semaphore sem = new Semaphore(f.platform, "s", 0);
        DrivenTask timed = f.task("timed");
        DrivenTask patient = f.task("patient");
        AtomicBoolean got = new AtomicBoolean(true);
        Op timedOp = timed.submit(() -> got.set(sem.downTimeout(SHORT)));
        Op patientOp = patient.runUntilBlocked(sem::down, sem);
        awaitOk(timedOp);
        // Whether or not the patient task queued before the timed one, nothing was up()ed: the timed
        // wait failed and the patient one still waits, alone in the queue.
        assertFalse(got.get());
        assertEquals(List.of(patient.task()), sem.waitingTasks());
        sem.up();
        awaitOk(patientOp);
        assertEquals(0, sem.availablePermits());
    }

    @Test
    void negativeInitialCountIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Semaphore(f.platform, "bad_sem", -1));
        assertTrue(e.getMessage().contains("bad_sem"), e.getMessage());
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        assertEquals(0, new Semaphore(f.platform, "zero", 0).availablePermits(), "zero is a valid count");
    }

    @Test
    void upBeyondTheMaximumCountIsRefused() {
        Semaphore sem = new Semaphore(f.platform, "full", Integer.MAX_VALUE);
        IllegalStateException e = assertThrows(IllegalStateException.class, sem::up);
        assertTrue(e.getMessage().contains(sem.describe()), e.getMessage());
        assertEquals(Integer.MAX_VALUE, sem.availablePermits());
    }

    @Test
    void negativeTimeoutIsRefused() {
        Semaphore sem = new Semaphore(f.platform, "s", 1);
        assertThrows(IllegalArgumentException.class, () -> sem.downTimeout(Duration.ofMillis(-1)));
        assertEquals(1, sem.availablePermits());
    }
}
