package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Kernel workqueue API a user expects, with the kernel's semantics: {@code wq_clamp_max_active},
 * {@code workqueue_set_max_active}, {@code workqueue_congested}, {@code work_busy},
 * {@code current_work}, {@code current_is_workqueue_rescuer}, {@code cancel_work_sync} of a BH item
 * from BH context, and {@code disable_work_sync} as a cancel (no flush-dependency check).
 */
class KernelApiTest {

    @Test
    void maxActiveOutOfRangeIsClampedAndZeroMeansTheDefault() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue neg = wqs.create("neg", -1);
            WorkQueue big = wqs.create("big", Workqueues.MAX_ACTIVE + 1);
            WorkQueue dflt = wqs.create("dflt", 0);
            assertEquals(1, neg.maxActive());
            assertEquals(Workqueues.MAX_ACTIVE, big.maxActive());
            assertEquals(Workqueues.DEFAULT_ACTIVE, dflt.maxActive());
            for (WorkQueue q : new WorkQueue[] {neg, big, dflt}) {
                q.destroy();
            }
        }
    }

    @Test
    void raisingMaxActiveActivatesWaitingItemsAndCongestedSeesThem() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("limited", 1);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger asleep = new AtomicInteger();
            Work[] items = new Work[3];
            for (int i = 0; i < items.length; i++) {
                items[i] = new Work("held" + i, gate::waitFor);
                assertTrue(wq.queueOn(0, items[i]));
            }
            try {
                Poll.until("first item asleep", () -> gate.waitingTasks().size() == 1);
                assertTrue(wq.congested(0), "two items wait for an active slot");
                assertEquals(EnumSet.of(WorkBusy.PENDING), items[1].busy());
                assertEquals(EnumSet.of(WorkBusy.RUNNING), items[0].busy());
                wq.setMaxActive(3);
                assertEquals(3, wq.maxActive());
                Poll.until("all three run at once", () -> gate.waitingTasks().size() == 3);
                assertFalse(wq.congested(0));
                wq.setMaxActive(0);
                assertEquals(1, wq.maxActive(), "setMaxActive clamps as the kernel does; 0 is not the default here");
            } finally {
                gate.completeAll();
            }
            wq.flush();
            assertEquals(EnumSet.noneOf(WorkBusy.class), items[0].busy());
            WorkQueue ordered = sys.workqueues().createOrdered("ord");
            assertThrows(IllegalStateException.class, () -> ordered.setMaxActive(2));
            assertThrows(IllegalArgumentException.class, () -> wq.congested(1));
            ordered.destroy();
            wq.destroy();
        }
    }

    @Test
    void currentWorkAndCurrentIsRescuerDescribeTheCallingTask() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue reclaim = wqs.create("reclaim_probe", 0, WqFlag.MEM_RECLAIM);
            AtomicReference<Work> seen = new AtomicReference<>();
            AtomicBoolean rescuerSeen = new AtomicBoolean();
            AtomicReference<String> ranOn = new AtomicReference<>();
            Work[] self = new Work[1];
            self[0] = new Work("probe", () -> {
                seen.set(wqs.currentWork());
                rescuerSeen.set(wqs.currentIsRescuer());
                ranOn.set(Thread.currentThread().getName());
            });
            assertTrue(reclaim.queue(self[0]));
            self[0].flush();
            assertSame(self[0], seen.get());
            // On real threads either may run it: a pool worker normally, the queue's rescuer when the
            // mayday timer fires first (a loaded machine); the answer must match the thread that ran it.
            assertEquals(ranOn.get().startsWith("kworker/R-"), rescuerSeen.get(),
                    "current_is_rescuer() answers for the thread that ran the item, " + ranOn.get());
            assertNull(wqs.currentWork(), "the test thread runs no item");
            assertFalse(wqs.currentIsRescuer());
            reclaim.destroy();
        }
    }

    @Test
    void cancelSyncOfABhItemFromBhContextBusyWaitsForTheRunningInstance() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue bh = sys.workqueues().systemBhWq();
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean targetDone = new AtomicBoolean();
            AtomicBoolean targetRunning = new AtomicBoolean();
            Work target = new Work("bh_target", () -> {
                targetRunning.set(true);
                WqTesting.spinUntil(release::get, WqTesting.PATIENCE);
                targetDone.set(true);
            });
            AtomicBoolean cancellerEntered = new AtomicBoolean();
            AtomicReference<Throwable> err = new AtomicReference<>();
            AtomicBoolean doneAtReturn = new AtomicBoolean();
            Work canceller = new Work("bh_canceller", () -> {
                cancellerEntered.set(true);
                try {
                    target.cancelSync();
                    doneAtReturn.set(targetDone.get());
                } catch (Throwable t) {
                    err.set(t);
                }
            });
            assertTrue(bh.queueOn(0, target));
            Poll.until("target running on CPU 0's softirq", targetRunning::get);
            assertTrue(bh.queueOn(1, canceller));
            Poll.until("canceller started on CPU 1's softirq", cancellerEntered::get);
            release.set(true);
            canceller.flush();
            assertNull(err.get(), () -> "cancelSync from BH context failed: " + err.get());
            assertTrue(doneAtReturn.get(), "cancelSync returned before the running instance finished");
        }
    }

    @Test
    void disableSyncFromAReclaimWorkerIsACancelNotAFlushDependency() {
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(1).withFlushDependencyIsError(true))) {
            Workqueues wqs = sys.workqueues();
            WorkQueue reclaim = wqs.create("reclaimq", 0, WqFlag.MEM_RECLAIM);
            WorkQueue plain = wqs.create("plainq", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            Work target = new Work("target", gate::waitFor);
            assertTrue(plain.queue(target));
            Poll.until("target asleep", () -> gate.waitingTasks().size() == 1);
            long v0 = sys.workqueues().stats().flushDependencyViolations();
            AtomicReference<Throwable> err = new AtomicReference<>();
            Work disabler = new Work("disabler", () -> {
                try {
                    target.disableSync();
                } catch (Throwable t) {
                    err.set(t);
                }
            });
            assertTrue(reclaim.queue(disabler));
            Poll.until("target disabled", target::isDisabled);
            gate.completeAll();
            disabler.flush();
            assertNull(err.get(), () -> "disableSync was treated as a flush: " + err.get());
            assertEquals(v0, sys.workqueues().stats().flushDependencyViolations());
            assertTrue(target.isDisabled());
            assertFalse(plain.queue(target), "disabled");
            assertTrue(target.enable());
            reclaim.destroy();
            plain.destroy();
        }
    }

    @Test
    void busyReportsPendingAndRunningTogetherForAnItemQueuedAgainWhileItRuns() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("busy_probe", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("twice", () -> {
                if (runs.incrementAndGet() == 1) {
                    gate.waitFor();
                }
            });
            assertTrue(wq.queue(w));
            try {
                Poll.until("first run asleep", () -> gate.waitingTasks().size() == 1);
                assertTrue(wq.queue(w));
                Set<WorkBusy> b = w.busy();
                assertEquals(EnumSet.of(WorkBusy.PENDING, WorkBusy.RUNNING), b);
            } finally {
                gate.completeAll();
            }
            w.flush();
            assertTrue(w.busy().isEmpty());
            wq.destroy();
        }
    }
}
