package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code cancel_work} and {@code cancel_work_sync}. */
class CancelSyncTest {

    @Test
    void cancelSyncReturnsWhetherItWasPendingAndWaitsForARunningInstance() {
        try (RescuerSystem sys = system(1);
             DrivenTask t = new DrivenTask(sys.platform(), "canceller", new AtomicLong())) {
            WorkQueue wq = sys.workqueues().create("cancelq", 1); // maxActive 1: the second item stays pending
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger blockerRuns = new AtomicInteger();
            Work blocker = new Work("blocker", () -> {
                if (blockerRuns.incrementAndGet() == 1) {
                    gate.waitFor();
                }
            });
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("w", runs::incrementAndGet);

            assertFalse(w.cancelSync(), "never queued");
            assertFalse(w.cancel(), "never queued");
            assertTrue(wq.queue(blocker));
            Poll.until("blocker asleep", () -> gate.waitingTasks().size() == 1);
            assertTrue(wq.queue(w));
            assertTrue(w.cancelSync(), "it was pending");
            assertFalse(w.isPending());
            assertFalse(w.isBusy());
            assertFalse(w.cancelSync(), "no longer pending");
            assertFalse(w.isDisabled(), "cancelSync leaves the item enabled");

            assertTrue(wq.queue(w));
            assertTrue(w.cancel(), "plain cancel takes a pending item off too");
            assertFalse(w.isPending());

            // cancel of a running, not pending item returns false at once.
            assertFalse(blocker.cancel());
            assertTrue(blocker.isBusy());

            // cancelSync of a running item waits for it; meanwhile it cannot be queued.
            AtomicBoolean result = new AtomicBoolean(true);
            DrivenTask.Op op = t.submit(() -> result.set(blocker.cancelSync()));
            try {
                Poll.until("cancelSync waits for the running instance", () -> t.task().state() == Task.State.BLOCKED);
                assertFalse(wq.queue(blocker), "queueing must fail while cancelSync is in progress");
                assertFalse(op.isDone());
            } finally {
                gate.completeAll();
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertFalse(result.get(), "it was running, not pending");
            assertFalse(blocker.isBusy());
            assertEquals(1, blockerRuns.get());

            assertTrue(wq.queue(blocker), "enabled again after cancelSync");
            wq.flush();
            assertEquals(2, blockerRuns.get());
            assertEquals(0, runs.get(), "cancelled queueings never ran");
            wq.destroy();
        }
    }

    @ParameterizedTest(name = "unbound = {0}")
    @ValueSource(booleans = {false, true})
    void cancelSyncWinsAgainstAnItemThatRequeuesItself(boolean unbound) {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = unbound ? wqs.create("requeuer_unbound", 0, WqFlag.UNBOUND) : wqs.create("requeuer", 0);
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger maxInBody = new AtomicInteger();
            Work[] self = new Work[1];
            self[0] = new Work("requeuer", () -> {
                raise(maxInBody, inBody.incrementAndGet());
                runs.incrementAndGet();
                wq.queue(self[0]); // unconditionally
                burn(50);
                inBody.decrementAndGet();
            });
            for (int round = 0; round < 20; round++) {
                int base = runs.get();
                assertTrue(wq.queue(self[0]), "round " + round);
                Poll.until("the item re-queues itself", () -> runs.get() > base + 50);
                self[0].cancelSync();
                int after = runs.get();
                assertFalse(self[0].isPending(), "pending after cancelSync, round " + round);
                assertFalse(self[0].isBusy(), "busy after cancelSync, round " + round);
                assertFalse(self[0].isDisabled());
                // Everything queued on the queue from now on runs, and the item does not.
                for (int cpu = 0; cpu < 2; cpu++) {
                    wq.queueOn(cpu, new Work("probe" + cpu, () -> { }));
                }
                wq.flush();
                assertEquals(after, runs.get(), "the item ran again after cancelSync returned, round " + round);
            }
            assertEquals(1, maxInBody.get());
            wq.destroy();
        }
    }

    @Test
    void cancelSyncFromAnotherWorkerWinsToo() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("requeuer2", 0);
            WorkQueue other = wqs.create("killer", 0);
            AtomicInteger runs = new AtomicInteger();
            Work[] self = new Work[1];
            self[0] = new Work("requeuer", () -> {
                runs.incrementAndGet();
                wq.queue(self[0]);
            });
            AtomicInteger afterCancel = new AtomicInteger(-1);
            AtomicBoolean stillBusy = new AtomicBoolean(true);
            Work killer = new Work("killer", () -> {
                self[0].cancelSync();
                afterCancel.set(runs.get());
                stillBusy.set(self[0].isBusy());
            });
            assertTrue(wq.queue(self[0]));
            Poll.until("the item re-queues itself", () -> runs.get() > 100);
            assertTrue(other.queue(killer));
            killer.flush();
            assertFalse(stillBusy.get());
            wq.flush();
            assertEquals(afterCancel.get(), runs.get());
            wq.destroy();
            other.destroy();
        }
    }
}
