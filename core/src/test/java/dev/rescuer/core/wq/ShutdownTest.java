package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Accepted work runs, and work that cannot run is refused at the call: queueing (delayed or not) on
 * a draining or destroyed queue and after the subsystem's close, and the bounded forms of close and
 * destroy, which report what is still running instead of blocking forever.
 */
class ShutdownTest {

    private static void awaitBlocked(DrivenTask t) {
        Poll.until(t.task().name() + " blocked", () -> t.task().state() == Task.State.BLOCKED);
    }

    /** An item that sleeps on {@code gate} until the test completes it. */
    private static Work blocker(String name, Completion gate) {
        return new Work(name, gate::waitFor);
    }

    @Test
    void aDelayedQueueingOnADrainingQueueIsRefused() {
        try (RescuerSystem sys = system(1);
             DrivenTask drainer = new DrivenTask(sys.platform(), "drainer", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("draining", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            assertTrue(wq.queue(blocker("busy", gate)));
            Poll.until("busy asleep", () -> gate.waitingTasks().size() == 1);
            DrivenTask.Op drain = drainer.submit(wq::drain);
            DelayedWork late = new DelayedWork("late", () -> { });
            try {
                awaitBlocked(drainer);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> wq.queueDelayed(late, Duration.ofMillis(300)));
                assertTrue(e.getMessage().contains("late") && e.getMessage().contains("draining"), e.getMessage());
                assertFalse(late.isPending(), "a refused item is not left pending");
                assertFalse(late.isTimerPending());
            } finally {
                gate.completeAll();
            }
            DrivenTask.awaitDone(drain);
            DrivenTask.rethrow(drain);
            assertTrue(wq.queueDelayed(late, Duration.ZERO), "accepted again once the drain is over");
            late.flush();
            wq.destroy();
        }
    }

    @Test
    void aDelayedQueueingDuringDestroyIsRefusedAndDestroyLeavesNoTimerArmed() {
        try (RescuerSystem sys = system(1);
             DrivenTask destroyer = new DrivenTask(sys.platform(), "destroyer", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("destroying", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            assertTrue(wq.queue(blocker("busy", gate)));
            Poll.until("busy asleep", () -> gate.waitingTasks().size() == 1);
            DrivenTask.Op destroy = destroyer.submit(wq::destroy);
            DelayedWork late = new DelayedWork("late", () -> { });
            try {
                awaitBlocked(destroyer);
                assertThrows(IllegalStateException.class, () -> wq.queueDelayed(late, Duration.ofMillis(300)));
                assertFalse(late.isPending());
                assertFalse(late.isTimerPending(), "no timer is left to fire after destroy");
            } finally {
                gate.completeAll();
            }
            DrivenTask.awaitDone(destroy);
            DrivenTask.rethrow(destroy);
            assertThrows(IllegalStateException.class, () -> wq.queueDelayed(late, Duration.ofMillis(300)));
            assertThrows(IllegalStateException.class, () -> wq.queueDelayed(late, Duration.ZERO));
        }
    }

    @Test
    void afterCloseEveryQueueingIsRefusedAtTheCall() {
        RescuerSystem sys = system(1);
        WorkQueue wq = sys.workqueues().create("closed", 0);
        WorkQueue events = sys.workqueues().systemWq();
        sys.close();
        Work w = new Work("after_close", () -> { });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> wq.queue(w));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertFalse(w.isPending());
        assertThrows(IllegalStateException.class, () -> events.queue(w));
        assertThrows(IllegalStateException.class, () -> wq.queueDelayed(new DelayedWork("d", () -> { }), Duration.ofSeconds(1)));
        assertThrows(RejectedExecutionException.class, () -> wq.execute(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> events.execute(() -> { }));
        assertFalse(w.flush(), "nothing to wait for: the refused item never became pending");
        sys.close(); // idempotent
    }

    @Test
    void closeRunsWhatWasAcceptedIncludingArmedDelayedItemsAndRefusesNewWorkMeanwhile() {
        RescuerSystem sys = system(2);
        try (DrivenTask closer = new DrivenTask(sys.platform(), "closer", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("closing", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger ran = new AtomicInteger();
            AtomicBoolean chainedRan = new AtomicBoolean();
            Work chained = new Work("chained", () -> chainedRan.set(true));
            assertTrue(wq.queue(new Work("busy", () -> {
                gate.waitFor();
                wq.queue(chained); // chained work is still accepted while the system closes
                ran.incrementAndGet();
            })));
            DelayedWork later = new DelayedWork("an_hour_later", ran::incrementAndGet);
            assertTrue(wq.queueDelayed(later, Duration.ofHours(1)));
            Poll.until("busy asleep", () -> gate.waitingTasks().size() == 1);
            DrivenTask.Op close = closer.submit(sys::close);
            try {
                Poll.until("the delayed item fired at close", () -> ran.get() == 1);
                awaitBlocked(closer);
                assertFalse(close.isDone(), "close waits for the accepted item");
                assertThrows(IllegalStateException.class, () -> wq.queue(new Work("outsider", () -> { })),
                        "a queueing from outside the running items is refused once close has started");
            } finally {
                gate.completeAll();
            }
            DrivenTask.awaitDone(close);
            DrivenTask.rethrow(close);
            assertEquals(2, ran.get());
            assertTrue(chainedRan.get(), "the item queued by a running item ran before close returned");
        }
    }

    @Test
    void boundedCloseReportsTheStuckItemAndCanBeCalledAgain() {
        RescuerSystem sys = system(1);
        Completion gate = new Completion(sys.platform(), "gate");
        WorkQueue wq = sys.workqueues().create("stuck_q", 0);
        assertTrue(wq.queue(blocker("never_returns", gate)));
        Poll.until("asleep", () -> gate.waitingTasks().size() == 1);
        WorkqueueTimeoutException e = assertThrows(WorkqueueTimeoutException.class, () -> sys.close(Duration.ofMillis(50)));
        assertTrue(e.getMessage().contains("workqueue stuck_q") && e.getMessage().contains("never_returns"), e.getMessage());
        assertTrue(e.getMessage().contains("in-flight"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> wq.queue(new Work("meanwhile", () -> { })),
                "queueing stays refused after a close that timed out");
        gate.completeAll();
        sys.close(Duration.ofSeconds(20));
        assertEquals(0, sys.workqueues().workerCount());
    }

    @Test
    void boundedDestroyReportsTheStuckItemAndLeavesTheQueueUsable() {
        try (RescuerSystem sys = system(1)) {
            Completion gate = new Completion(sys.platform(), "gate");
            WorkQueue wq = sys.workqueues().create("stuck_destroy", 0);
            assertTrue(wq.queue(blocker("stuck", gate)));
            Poll.until("asleep", () -> gate.waitingTasks().size() == 1);
            WorkqueueTimeoutException e = assertThrows(WorkqueueTimeoutException.class, () -> wq.destroy(Duration.ofMillis(50)));
            assertTrue(e.getMessage().contains("stuck_destroy") && e.getMessage().contains("stuck"), e.getMessage());
            gate.completeAll();
            AtomicBoolean ran = new AtomicBoolean();
            Work after = new Work("after", () -> ran.set(true));
            assertTrue(wq.queue(after), "a destroy that timed out leaves the queue as it was");
            after.flush();
            assertTrue(ran.get());
            wq.destroy(Duration.ofSeconds(20));
            assertThrows(IllegalStateException.class, () -> wq.queue(new Work("x", () -> { })));
        }
    }

    @Test
    void everyQueueingAcceptedWhileCloseRacesRunsBeforeCloseReturns() {
        RescuerSystem sys = system(2);
        WorkQueue wq = sys.workqueues().create("racing_close", 0);
        AtomicInteger accepted = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        AtomicBoolean refused = new AtomicBoolean();
        java.util.List<Task> queuers = new java.util.ArrayList<>();
        for (int q = 0; q < 3; q++) {
            queuers.add(sys.platform().startThread("queuer" + q, () -> {
                for (int i = 0; !refused.get(); i++) {
                    Work w = new Work("racer" + i, ran::incrementAndGet);
                    try {
                        if (wq.queue(w)) {
                            accepted.incrementAndGet();
                        }
                    } catch (IllegalStateException e) {
                        refused.set(true);
                    }
                }
            }));
        }
        Poll.until("queueing under way", () -> accepted.get() > 1000);
        sys.close();
        int ranAtClose = ran.get();
        for (Task t : queuers) {
            sys.platform().join(t);
        }
        assertTrue(refused.get(), "queueing was refused once close began");
        assertEquals(accepted.get(), ranAtClose, "every accepted queueing ran before close returned");
    }
}
