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
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Completion}: counted completions, complete-all, timed and try waits, reinit, FIFO release. */
class CompletionTest {

    private static final Duration SHORT = Duration.ofMillis(20);

    private final Fixture f = new Fixture();
    private final Completion done = new Completion(f.platform, "&io->done", "io_done");

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void waitForSleepsUntilComplete() {
        DrivenTask waiter = f.task("waiter");
        DrivenTask completer = f.task("completer");
        assertFalse(done.isDone());
        Op w = waiter.runUntilBlocked(done::waitFor, done);
        assertEquals(List.of(waiter.task()), done.waitingTasks());
        completer.run(done::complete);
        awaitOk(w);
        assertFalse(done.isDone(), "the one completion was consumed by the waiter");
        assertEquals(List.of(), done.waitingTasks());
    }

    @Test
    void completeBeforeWaitIsRemembered() {
        DrivenTask waiter = f.task("waiter");
        done.complete();
        assertTrue(done.isDone());
        waiter.run(done::waitFor); // returns at once; would block forever if the completion were lost
        assertFalse(done.isDone());
        assertNotWaiting(waiter);
    }

    @Test
    void twoCompletesReleaseExactlyTwoWaits() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        done.complete();
        done.complete();
        a.run(done::waitFor);
        b.run(done::waitFor);
        assertFalse(done.isDone());
        Op cOp = c.runUntilBlocked(done::waitFor, done);
        assertBlockedOn(c, done, cOp);
        done.complete();
        awaitOk(cOp);
    }

    @Test
    void eachCompleteReleasesOneWaiterInFifoOrder() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        Op aOp = a.runUntilBlocked(done::waitFor, done);
        Op bOp = b.runUntilBlocked(done::waitFor, done);
        Op cOp = c.runUntilBlocked(done::waitFor, done);
        done.complete();
        assertEquals(List.of(b.task(), c.task()), done.waitingTasks(), "complete() releases the oldest waiter");
        awaitOk(aOp);
        assertBlockedOn(b, done, bOp);
        assertBlockedOn(c, done, cOp);
        done.complete();
        awaitOk(bOp);
        assertBlockedOn(c, done, cOp);
        done.complete();
        awaitOk(cOp);
        assertCompletionOrder(aOp, bOp, cOp);
        assertFalse(done.isDone(), "three completes, three waits: nothing left over");
    }

    @Test
    void completeAllReleasesEveryWaiterAndEveryLaterWaitUntilReinit() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask later = f.task("later");
        Op aOp = a.runUntilBlocked(done::waitFor, done);
        Op bOp = b.runUntilBlocked(done::waitFor, done);
        done.completeAll();
        assertEquals(List.of(), done.waitingTasks());
        awaitOk(aOp);
        awaitOk(bOp);
        assertTrue(done.isDone());
        later.run(done::waitFor);
        later.run(done::waitFor);
        AtomicBoolean got = new AtomicBoolean();
        later.run(() -> got.set(done.tryWaitFor()));
        assertTrue(got.get());
        assertTrue(done.isDone(), "waits do not consume a complete-all");

        done.reinit();
        assertFalse(done.isDone());
        later.run(() -> got.set(done.tryWaitFor()));
        assertFalse(got.get());
        Op again = later.runUntilBlocked(done::waitFor, done);
        done.complete();
        awaitOk(again);
    }

    @Test
    void reinitForgetsCountedCompletions() {
        done.complete();
        done.complete();
        done.reinit();
        assertFalse(done.isDone());
        assertFalse(done.tryWaitFor());
    }

    @Test
    void reinitDoesNotReleaseTasksAlreadyWaiting() {
        DrivenTask a = f.task("A");
        Op aOp = a.runUntilBlocked(done::waitFor, done);
        done.reinit();
        assertBlockedOn(a, done, aOp);
        assertEquals(List.of(a.task()), done.waitingTasks());
        done.complete();
        awaitOk(aOp);
    }

    @Test
    void tryWaitForConsumesOneCompletionWithoutSleeping() {
        assertFalse(done.tryWaitFor());
        done.complete();
        done.complete();
        assertTrue(done.tryWaitFor());
        assertTrue(done.isDone());
        assertTrue(done.tryWaitFor());
        assertFalse(done.isDone());
        assertFalse(done.tryWaitFor());
    }

    @Test
    void timedWaitReturnsFalseOnTimeoutAndLeavesNoWaiter() {
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean(true);
        a.run(() -> got.set(done.waitFor(SHORT)));
        assertFalse(got.get());
        assertEquals(List.of(), done.waitingTasks());
        // The withdrawn waiter must not swallow the next completion.
        done.complete();
        assertTrue(done.isDone());
    }

    @Test
    void timedWaitReturnsTrueWhenCompletedInTime() {
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean();
        Op op = a.runUntilBlocked(() -> got.set(done.waitFor(Duration.ofMinutes(5))), done);
        done.complete();
        awaitOk(op);
        assertTrue(got.get());
        assertFalse(done.isDone());
    }

    @Test
    void timedWaitOnAnAlreadyCompletedCompletionSucceedsAtOnce() {
        DrivenTask a = f.task("A");
        AtomicBoolean got = new AtomicBoolean();
        done.complete();
        a.run(() -> got.set(done.waitFor(Duration.ZERO)));
        assertTrue(got.get());
        a.run(() -> got.set(done.waitFor(Duration.ZERO)));
        assertFalse(got.get());
    }
}
