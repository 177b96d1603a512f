package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code flush_work}, {@code flush_workqueue}, {@code drain_workqueue} and {@code destroy_workqueue}.
 */
class FlushDrainDestroyTest {

    private static void awaitBlocked(DrivenTask t) {
        Poll.until(t.task().name() + " blocked", () -> t.task().state() == Task.State.BLOCKED);
    }

    @Test
    void flushOfAnItemWaitsForItsLastQueueing() {
        try (RescuerSystem sys = system(2);
             DrivenTask t = new DrivenTask(sys.platform(), "flusher", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("flush_item", 0);
            Completion gate1 = new Completion(sys.platform(), "gate1");
            Completion gate2 = new Completion(sys.platform(), "gate2");
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", () -> {
                int n = runs.incrementAndGet();
                (n == 1 ? gate1 : gate2).waitFor();
            });
            assertTrue(wq.queue(w));
            Poll.until("first run asleep", () -> gate1.waitingTasks().size() == 1);
            assertTrue(wq.queue(w), "queued again while running");

            AtomicBoolean waited = new AtomicBoolean();
            AtomicInteger runsAtReturn = new AtomicInteger(-1);
            AtomicBoolean busyAtReturn = new AtomicBoolean(true);
            DrivenTask.Op op = t.submit(() -> {
                waited.set(w.flush());
                runsAtReturn.set(runs.get());
                busyAtReturn.set(w.isBusy());
            });
            try {
                awaitBlocked(t);
                gate1.complete();
                Poll.until("second run asleep", () -> gate2.waitingTasks().size() == 1);
                assertFalse(op.isDone(), "flush returned before the last queueing had finished");
            } finally {
                gate1.completeAll();
                gate2.completeAll();
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(waited.get(), "flush reports that it waited");
            assertEquals(2, runsAtReturn.get(), "flush returned before the second run");
            assertFalse(busyAtReturn.get(), "the item was still busy when flush returned");
            assertEquals(2, runs.get());
            assertFalse(w.isBusy());
            wq.destroy();
        }
    }

    @Test
    void flushOfAQueueWaitsForEarlierItemsAndIsNotKeptWaitingByLaterOnes() {
        try (RescuerSystem sys = system(2);
             DrivenTask t = new DrivenTask(sys.platform(), "flusher", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("flush_queue", 0);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger foreverRuns = new AtomicInteger();
            Work[] forever = new Work[1];
            forever[0] = new Work("forever", () -> {
                foreverRuns.incrementAndGet();
                if (!stop.get()) {
                    wq.queue(forever[0]); // re-queues itself on the same queue, forever
                }
            });
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicBoolean gatedDone = new AtomicBoolean();
            Work gated = new Work("gated", () -> {
                gate.waitFor();
                gatedDone.set(true);
            });
            AtomicInteger earlyRuns = new AtomicInteger();
            assertTrue(wq.queue(forever[0]));
            assertTrue(wq.queue(gated));
            for (int i = 0; i < 20; i++) {
                wq.queueOn(i % 2, new Work("early" + i, earlyRuns::incrementAndGet));
            }
            Poll.until("gated item asleep", () -> gate.waitingTasks().size() == 1);

            DrivenTask.Op op = t.submit(wq::flush);
            awaitBlocked(t);
            int before = foreverRuns.get();
            Poll.until("the self-requeueing item keeps running during the flush", () -> foreverRuns.get() > before + 100);
            assertFalse(op.isDone(), "flush returned while an item queued before it was still running");
            gate.complete();
            DrivenTask.awaitDone(op); // would never finish if later arrivals kept the flush waiting
            DrivenTask.rethrow(op);
            assertTrue(gatedDone.get());
            assertEquals(20, earlyRuns.get(), "every item queued before the flush has run");
            int after = foreverRuns.get();
            Poll.until("it was still re-queueing itself when the flush returned", () -> foreverRuns.get() > after);

            // A second flush with the item still re-queueing itself also returns.
            DrivenTask.Op again = t.submit(wq::flush);
            DrivenTask.awaitDone(again);
            DrivenTask.rethrow(again);

            stop.set(true);
            wq.drain();
            assertFalse(forever[0].isBusy());
            wq.destroy();
        }
    }

    @Test
    void flushOfAQueueCyclesThroughMoreThanSixteenColors() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("colors", 0);
            AtomicInteger runs = new AtomicInteger();
            for (int round = 0; round < 40; round++) {
                for (int i = 0; i < 5; i++) {
                    wq.queueOn(i % 2, new Work("c" + round + "_" + i, runs::incrementAndGet));
                }
                wq.flush();
                assertEquals(5 * (round + 1), runs.get(), "round " + round);
            }
            wq.destroy();
        }
    }

    @Test
    void drainWaitsUntilEmptyAllowingOnlyChainedQueueing() {
        try (RescuerSystem sys = system(2);
             DrivenTask t = new DrivenTask(sys.platform(), "drainer", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("drainq", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger chainRuns = new AtomicInteger();
            AtomicInteger tailRuns = new AtomicInteger();
            Work tail = new Work("tail", tailRuns::incrementAndGet);
            Work[] chain = new Work[1];
            chain[0] = new Work("chain", () -> {
                int n = chainRuns.incrementAndGet();
                if (n < 50) {
                    assertTrue(wq.queue(chain[0]));
                } else {
                    assertTrue(wq.queue(tail));
                }
                if (n == 1) {
                    gate.waitFor();
                }
            });
            assertTrue(wq.queue(chain[0]));
            Poll.until("chain asleep in its first run", () -> gate.waitingTasks().size() == 1);

            DrivenTask.Op op = t.submit(wq::drain);
            Work outsider = new Work("outsider", () -> { });
            try {
                awaitBlocked(t);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> wq.queue(outsider));
                assertEquals("cannot queue work outsider on workqueue drainq: it is draining or being destroyed, "
                        + "and only its own items may queue to it now", e.getMessage());
                assertFalse(outsider.isPending(), "a refused queueing leaves the item idle");
                assertThrows(RejectedExecutionException.class, () -> wq.execute(() -> { }));
                assertFalse(op.isDone());
            } finally {
                gate.completeAll();
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertEquals(50, chainRuns.get(), "drain waited for the whole chain");
            assertEquals(1, tailRuns.get());
            assertFalse(chain[0].isBusy());
            assertFalse(tail.isBusy());

            // Once drained, the queue takes items from anyone again.
            assertTrue(wq.queue(outsider));
            outsider.flush();
            wq.destroy();
        }
    }

    @Test
    void destroyRunsWhatWasQueuedThenRefusesEverything() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("destroyq", 0);
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 100; i++) {
                assertTrue(wq.queueOn(i % 2, new Work("d" + i, runs::incrementAndGet)));
            }
            assertTrue(sys.workqueues().queues().contains(wq));
            wq.destroy();
            assertEquals(100, runs.get(), "destroy drains the queue first");
            assertFalse(sys.workqueues().queues().contains(wq));

            Work late = new Work("late", runs::incrementAndGet);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> wq.queue(late));
            assertEquals("cannot queue work late on workqueue destroyq: it was destroyed", e.getMessage());
            assertFalse(late.isPending());
            assertThrows(IllegalStateException.class, () -> wq.queueOn(1, late));
            DelayedWork lateDelayed = new DelayedWork("late_delayed", runs::incrementAndGet);
            assertThrows(IllegalStateException.class, () -> wq.queueDelayed(lateDelayed, Duration.ofMillis(1)));
            assertThrows(IllegalStateException.class, () -> wq.queueDelayed(lateDelayed, Duration.ZERO));
            assertFalse(lateDelayed.isPending());
            assertFalse(lateDelayed.isTimerPending());
            RejectedExecutionException r = assertThrows(RejectedExecutionException.class, () -> wq.execute(() -> { }));
            assertTrue(r.getMessage().contains("destroyed"), r.getMessage());
            IllegalStateException twice = assertThrows(IllegalStateException.class, wq::destroy);
            assertEquals("workqueue destroyq is already destroyed", twice.getMessage());
            assertEquals(100, runs.get());
            // The item itself is fine: it can go to another queue.
            assertTrue(sys.workqueues().systemWq().queue(late));
            late.flush();
            assertEquals(101, runs.get());
        }
    }

    @Test
    void destroyFromOneOfItsOwnItemsIsRefusedAndLeavesTheQueueUsable() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("selfdestroy", 0);
            java.util.concurrent.atomic.AtomicReference<Throwable> err = new java.util.concurrent.atomic.AtomicReference<>();
            Work w = new Work("destroyer", () -> {
                try {
                    wq.destroy();
                } catch (Throwable e) {
                    err.set(e);
                }
            });
            assertTrue(wq.queue(w));
            w.flush();
            assertInstanceOf(IllegalStateException.class, err.get());
            assertTrue(err.get().getMessage().contains("can never finish"), err.get().getMessage());
            // Nothing changed: outsiders may still queue, and a proper destroy works.
            AtomicInteger runs = new AtomicInteger();
            Work after = new Work("after", runs::incrementAndGet);
            assertTrue(wq.queue(after));
            after.flush();
            assertEquals(1, runs.get());
            wq.destroy();
            assertFalse(sys.workqueues().queues().contains(wq));
        }
    }

    @Test
    void destroyRefusesWhileADelayedItemIsArmedAndNamesIt() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("armedq", 0);
            AtomicInteger runs = new AtomicInteger();
            DelayedWork dw = new DelayedWork("late_timer", runs::incrementAndGet);
            assertTrue(wq.queueDelayed(dw, Duration.ofHours(1)));
            IllegalStateException e = assertThrows(IllegalStateException.class, wq::destroy);
            assertTrue(e.getMessage().contains("armedq"), e.getMessage());
            assertTrue(e.getMessage().contains("late_timer"), "the message names the armed item: " + e.getMessage());

            // Refused means untouched: the queue still works.
            Work w = new Work("w", runs::incrementAndGet);
            assertTrue(wq.queue(w));
            w.flush();
            assertEquals(1, runs.get());
            assertTrue(dw.isTimerPending());

            assertTrue(dw.cancel());
            wq.destroy();
            assertThrows(IllegalStateException.class, () -> wq.queueDelayed(dw, Duration.ofHours(1)));
            assertFalse(dw.isTimerPending());
            assertEquals(1, runs.get());
        }
    }

    @Test
    void overlappingFlushersEachTakeTheirColorOnArrival() {
        try (RescuerSystem sys = system(2);
             DrivenTask first = new DrivenTask(sys.platform(), "flusher1", new AtomicLong());
             DrivenTask second = new DrivenTask(sys.platform(), "flusher2", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("overlap", 0);
            Completion early = new Completion(sys.platform(), "early");
            Completion late = new Completion(sys.platform(), "late");
            assertTrue(wq.queue(new Work("before_both", early::waitFor)));
            Poll.until("the early item asleep", () -> early.waitingTasks().size() == 1);
            DrivenTask.Op f1 = first.submit(wq::flush);
            awaitBlocked(first);
            DrivenTask.Op f2 = second.submit(wq::flush);
            awaitBlocked(second); // arrived while the first flush is in progress
            AtomicBoolean lateDone = new AtomicBoolean();
            assertTrue(wq.queue(new Work("after_both", () -> {
                late.waitFor();
                lateDone.set(true);
            })));
            Poll.until("the late item asleep", () -> late.waitingTasks().size() == 1);
            try {
                early.complete();
                DrivenTask.awaitDone(f1);
                DrivenTask.rethrow(f1);
                DrivenTask.awaitDone(f2); // would wait for after_both if its color were taken after the first flush
                DrivenTask.rethrow(f2);
                assertFalse(lateDone.get(), "the second flush returned without waiting for an item queued after it");
            } finally {
                late.completeAll();
                early.completeAll();
            }
            wq.destroy();
        }
    }

    @Test
    void moreFlushersThanColorsAllReturn() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("many_flushers", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            assertTrue(wq.queue(new Work("held", gate::waitFor)));
            Poll.until("held asleep", () -> gate.waitingTasks().size() == 1);
            int n = PoolWorkqueue.NR_COLORS + 4;
            List<Task> flushers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                flushers.add(sys.platform().startThread("flusher" + i, wq::flush));
            }
            Poll.until("every flusher waits", () -> flushers.stream().allMatch(t -> t.state() == Task.State.BLOCKED));
            gate.complete();
            for (Task t : flushers) {
                sys.platform().join(t);
                assertNull(t.failure(), t.name());
            }
            wq.destroy();
        }
    }
}
