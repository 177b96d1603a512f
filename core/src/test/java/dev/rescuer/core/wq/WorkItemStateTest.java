package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The state of one item: PENDING, busy, delayed timers, {@code mod_delayed_work}, cancelling a timer,
 * and the disable depth ({@code disable_work}/{@code enable_work}).
 */
class WorkItemStateTest {

    /** A queue with maxActive 1 on one CPU, so an item queued behind a gated one stays pending. */
    private static WorkQueue narrow(RescuerSystem sys, String name) {
        return sys.workqueues().create(name, 1);
    }

    /** Runs an item on {@code wq} that waits for the returned gate, and waits until it runs. */
    private static Completion occupy(RescuerSystem sys, WorkQueue wq) {
        Completion gate = new Completion(sys.platform(), "gate");
        assertTrue(wq.queue(new Work("blocker", gate::waitFor)));
        Poll.until("blocker running", () -> gate.waitingTasks().size() == 1);
        return gate;
    }

    @Test
    void queueReturnsFalseWhilePendingAndPendingAndBusyFollowTheItem() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = narrow(sys, "state");
            Completion gate = new Completion(sys.platform(), "gate");
            Work blocker = new Work("blocker", gate::waitFor);
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", runs::incrementAndGet);

            assertFalse(w.isPending());
            assertFalse(w.isBusy());
            assertTrue(wq.queue(blocker));
            Poll.until("blocker running, asleep on the gate", () -> gate.waitingTasks().size() == 1);
            assertFalse(blocker.isPending(), "PENDING is cleared before the item runs");
            assertTrue(blocker.isBusy(), "a running item is busy");

            assertTrue(wq.queue(w));
            assertTrue(w.isPending());
            assertTrue(w.isBusy());
            assertFalse(wq.queue(w), "queue must return false while the item is pending");
            assertFalse(wq.queueOn(0, w), "queueOn must return false while the item is pending");
            assertFalse(sys.workqueues().systemWq().queue(w), "pending is per item, not per queue");

            gate.complete();
            w.flush();
            assertEquals(1, runs.get(), "three queueing attempts while pending make one run");
            assertFalse(w.isPending());
            assertFalse(w.isBusy());
            assertFalse(w.flush(), "flushing an idle item does not wait");
            blocker.flush();
            assertFalse(blocker.isBusy());
            wq.destroy();
        }
    }

    @Test
    void queueDelayedIsPendingFromTheCallAndModDelayedReportsAndRearms() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("delayed", 0);
            AtomicInteger runs = new AtomicInteger();
            Completion ran = new Completion(sys.platform(), "ran");
            DelayedWork dw = new DelayedWork("dw", () -> {
                runs.incrementAndGet();
                ran.complete();
            });

            assertTrue(wq.queueDelayed(dw, Duration.ofHours(1)));
            assertTrue(dw.isPending(), "a delayed item is pending from the queueing call");
            assertTrue(dw.isTimerPending());
            assertTrue(dw.isBusy());
            assertFalse(wq.queueDelayed(dw, Duration.ofMillis(1)), "already pending");
            assertFalse(wq.queue(dw), "already pending");

            // mod_delayed_work on a pending item returns true and re-arms: with a short delay it now runs,
            // which the original one-hour timer would never have allowed.
            assertTrue(wq.modDelayed(dw, Duration.ofMillis(5)));
            Poll.until("the re-armed item runs", ran::isDone);
            dw.flush();
            assertEquals(1, runs.get());
            assertFalse(dw.isPending());
            assertFalse(dw.isTimerPending());

            // On an idle item it returns false and arms it.
            assertFalse(wq.modDelayed(dw, Duration.ofHours(1)));
            assertTrue(dw.isPending());
            assertTrue(dw.isTimerPending());
            assertTrue(wq.modDelayed(dw, Duration.ofHours(2)), "still pending, so true");
            assertTrue(dw.isTimerPending());

            // A zero delay queues at once, off the timer.
            assertTrue(wq.modDelayed(dw, Duration.ZERO));
            assertFalse(dw.isTimerPending(), "a zero delay takes the item off its timer");
            dw.flush();
            assertEquals(2, runs.get());
            assertTrue(wq.queueDelayed(dw, Duration.ZERO));
            assertFalse(dw.isTimerPending());
            dw.flush();
            assertEquals(3, runs.get());

            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                    () -> wq.queueDelayed(dw, Duration.ofMillis(-1)));
            assertTrue(neg.getMessage().contains("negative delay"), neg.getMessage());
            assertThrows(IllegalArgumentException.class, () -> wq.modDelayed(dw, Duration.ofMillis(-1)));
            assertFalse(dw.isPending(), "a rejected queueing leaves the item idle");
            wq.destroy();
        }
    }

    @Test
    void flushOfADelayedItemFiresItsTimerAtOnce() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("delayed_flush", 0);
            AtomicInteger runs = new AtomicInteger();
            DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
            assertTrue(wq.queueDelayed(dw, Duration.ofHours(1)));
            assertTrue(dw.flush(), "flush_delayed_work queues the item now and waits for it");
            assertEquals(1, runs.get());
            assertFalse(dw.isPending());
            assertFalse(dw.isTimerPending());
            wq.destroy(); // refuses if the timer were still counted as armed
        }
    }

    @Test
    void cancelOfADelayedItemStopsItsTimer() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("delayed_cancel", 0);
            AtomicInteger cancelledRuns = new AtomicInteger();
            Completion sentinelRan = new Completion(sys.platform(), "sentinel_ran");
            DelayedWork cancelled = new DelayedWork("cancelled", cancelledRuns::incrementAndGet);
            DelayedWork sentinel = new DelayedWork("sentinel", sentinelRan::complete);

            assertTrue(wq.queueDelayed(cancelled, Duration.ofMillis(400)));
            assertTrue(wq.queueDelayed(sentinel, Duration.ofMillis(500)));
            assertTrue(cancelled.cancel(), "the item was pending on its timer");
            assertFalse(cancelled.isPending());
            assertFalse(cancelled.isTimerPending());
            assertFalse(cancelled.cancel(), "nothing left to cancel");

            // Timers fire in deadline order: once the sentinel's later timer has fired and its item has
            // run, the cancelled timer would have fired and queued its item before it.
            Poll.until("the sentinel's timer fires", sentinelRan::isDone);
            wq.flush();
            assertEquals(0, cancelledRuns.get(), "a cancelled delayed item must never run");

            // cancelSync stops a timer too, and the item can be queued again afterwards.
            assertTrue(wq.queueDelayed(cancelled, Duration.ofHours(1)));
            assertTrue(cancelled.cancelSync());
            assertFalse(cancelled.isTimerPending());
            assertFalse(cancelled.isPending());
            assertTrue(wq.queueDelayed(cancelled, Duration.ZERO));
            cancelled.flush();
            assertEquals(1, cancelledRuns.get());
            wq.destroy(); // refuses if a cancelled timer were still counted as armed
        }
    }

    /** The depth shares the item's state word with PENDING: its 16 bits fill up without touching PENDING. */
    @Test
    void disableDepthStopsAt0xFFFFAndLeavesPendingAlone() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = narrow(sys, "disable-max");
            Completion gate = occupy(sys, wq);
            Work w = new Work("deep", () -> { });
            assertTrue(wq.queue(w));
            assertTrue(w.disable(), "pending, taken off its queue");
            for (int d = 2; d <= 0xFFFF; d++) {
                w.incDisable();
            }
            assertFalse(w.isPending());
            IllegalStateException e = assertThrows(IllegalStateException.class, w::incDisable);
            assertEquals("work deep: disable depth overflow", e.getMessage());
            assertFalse(w.isPending(), "the overflow left PENDING clear");
            assertFalse(wq.queue(w));
            for (int d = 0xFFFF; d > 1; d--) {
                assertFalse(w.enable());
            }
            assertTrue(w.enable());
            assertFalse(w.isDisabled());
            gate.complete();
            assertTrue(wq.queue(w));
            w.flush();
            assertFalse(w.isPending());
        }
    }

    @Test
    void disableDepthCountsAndQueueingFailsWhileDisabled() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = narrow(sys, "disable");
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", runs::incrementAndGet);

            IllegalStateException notDisabled = assertThrows(IllegalStateException.class, w::enable);
            assertEquals("enable of work w, which is not disabled", notDisabled.getMessage());

            assertFalse(w.disable(), "not pending");
            assertTrue(w.isDisabled());
            assertFalse(wq.queue(w), "queueing fails while disabled");
            assertFalse(w.isPending());
            assertFalse(w.disable(), "depth 2");
            assertFalse(w.enable(), "depth 2 -> 1: still disabled");
            assertTrue(w.isDisabled());
            assertFalse(wq.queue(w), "still disabled at depth 1");
            assertTrue(w.enable(), "depth 1 -> 0: queueable again");
            assertFalse(w.isDisabled());
            assertThrows(IllegalStateException.class, w::enable, "enable below zero");
            assertTrue(wq.queue(w));
            w.flush();
            assertEquals(1, runs.get());

            // Disabling a pending item takes it off its queue; it never runs.
            Completion gate = occupy(sys, wq);
            assertTrue(wq.queue(w));
            assertTrue(w.isPending());
            assertTrue(w.disable(), "it was pending");
            assertFalse(w.isPending());
            gate.complete();
            wq.flush();
            assertEquals(1, runs.get(), "the disabled item was taken off the queue");
            assertTrue(w.enable());
            assertTrue(wq.queue(w));
            w.flush();
            assertEquals(2, runs.get());

            // Disabling a delayed item stops its timer, and delayed queueing fails while disabled.
            DelayedWork dw = new DelayedWork("dw", runs::incrementAndGet);
            assertTrue(wq.queueDelayed(dw, Duration.ofHours(1)));
            assertTrue(dw.disable());
            assertFalse(dw.isTimerPending());
            assertFalse(dw.isPending());
            assertFalse(wq.queueDelayed(dw, Duration.ZERO));
            assertFalse(wq.queueDelayed(dw, Duration.ofMillis(1)));
            assertTrue(dw.enable());
            wq.destroy();
        }
    }

    @Test
    void disableWinsAgainstARacingFirstQueueing() {
        // disable_work grabs PENDING, so a queueing racing with it is either refused or taken back:
        // once both have returned, the item is not pending, and a queueing that succeeded was taken
        // back by the disable (which then reports the item as pending). The race is sharpest on an
        // item's very first queueing, before the item knows its queue. Items go to a frozen freezable
        // queue, so none of them runs and PENDING is all there is to look at.
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("disable_race", 0, WqFlag.FREEZABLE);
            sys.workqueues().freeze();
            int rounds = 20_000;
            Work[] items = new Work[rounds];
            for (int i = 0; i < rounds; i++) {
                items[i] = new Work("race" + i, () -> { });
            }
            boolean[] queued = new boolean[rounds];
            boolean[] disabledWasPending = new boolean[rounds];
            AtomicIntegerArray phase = new AtomicIntegerArray(2);
            WqTesting.runTasks(sys.platform(), "racer", 2, id -> {
                for (int i = 0; i < rounds; i++) {
                    // A two-party spin barrier per round, so both sides hit the same item together.
                    phase.incrementAndGet(id);
                    int round = i + 1;
                    while (phase.get(1 - id) < round) {
                        Thread.onSpinWait();
                    }
                    if (id == 0) {
                        queued[i] = wq.queue(items[i]);
                    } else {
                        disabledWasPending[i] = items[i].disable();
                    }
                }
            });
            int stillPending = 0;
            int lost = 0;
            for (int i = 0; i < rounds; i++) {
                if (items[i].isPending()) {
                    stillPending++;
                }
                if (queued[i] != disabledWasPending[i]) {
                    lost++;
                }
            }
            assertEquals(0, stillPending, "items still pending after disable() returned");
            assertEquals(0, lost, "a successful queueing must be the one disable() took back");
            sys.workqueues().thaw();
            wq.flush();
            wq.destroy();
        }
    }

    @Test
    void disableSyncWaitsForTheRunningInstance() {
        try (RescuerSystem sys = system(1);
             DrivenTask t = new DrivenTask(sys.platform(), "disabler", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("disable_sync", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", () -> {
                runs.incrementAndGet();
                gate.waitFor();
            });
            assertTrue(wq.queue(w));
            Poll.until("w running", () -> gate.waitingTasks().size() == 1);
            AtomicBoolean result = new AtomicBoolean(true);
            DrivenTask.Op op = t.submit(() -> result.set(w.disableSync()));
            Poll.until("disableSync waits for the running instance", () -> t.task().state() == Task.State.BLOCKED);
            assertFalse(op.isDone());
            assertFalse(wq.queue(w), "disabled");
            gate.complete();
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertFalse(result.get(), "it was running, not pending");
            assertFalse(w.isBusy());
            assertEquals(1, runs.get());
            assertTrue(w.enable());
            gate.complete();
            assertTrue(wq.queue(w));
            w.flush();
            assertEquals(2, runs.get());
            wq.destroy();
        }
    }
}
