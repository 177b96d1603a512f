package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code check_flush_dependency}: a task on the reclaim path must not wait for a queue without a
 * rescuer; and flushes that can never finish (an item flushing itself or its own queue) throw.
 */
class FlushDependencyTest {

    private static long violations(RescuerSystem sys) {
        return sys.workqueues().stats().flushDependencyViolations();
    }

    @Test
    void reclaimWorkerFlushingANonReclaimQueueIsCountedInWarningMode() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue reclaim = wqs.create("reclaimq", 0, WqFlag.MEM_RECLAIM);
            WorkQueue reclaim2 = wqs.create("reclaimq2", 0, WqFlag.MEM_RECLAIM);
            WorkQueue plain = wqs.create("plainq", 0);
            WorkQueue plain2 = wqs.create("plainq2", 0);
            long v0 = violations(sys);

            Work flushesPlain = new Work("flushes_plain", plain::flush);
            assertTrue(reclaim.queue(flushesPlain));
            flushesPlain.flush();
            assertEquals(v0 + 1, violations(sys), "MEM_RECLAIM item flushing a !MEM_RECLAIM queue");

            // Negative controls: a reclaim worker flushing a reclaim queue, a plain worker flushing a plain queue.
            Work flushesReclaim = new Work("flushes_reclaim", reclaim2::flush);
            assertTrue(reclaim.queue(flushesReclaim));
            flushesReclaim.flush();
            Work plainFlushesPlain = new Work("plain_flushes_plain", plain2::flush);
            assertTrue(plain.queue(plainFlushesPlain));
            plainFlushesPlain.flush();
            assertEquals(v0 + 1, violations(sys), "no violation in the negative controls");

            // Flushing a busy item of a plain queue from a reclaim item: reported, and the flush still waits.
            Completion gate = new Completion(sys.platform(), "gate");
            Work target = new Work("target", gate::waitFor);
            Work flushesItem = new Work("flushes_item", target::flush);
            try {
                assertTrue(plain.queue(target));
                Poll.until("target asleep", () -> gate.waitingTasks().size() == 1);
                assertTrue(reclaim.queue(flushesItem));
                Poll.until("the flush of the item is reported", () -> violations(sys) == v0 + 2);
                assertTrue(flushesItem.isBusy(), "in warning mode the flush goes on waiting");
            } finally {
                gate.completeAll();
            }
            flushesItem.flush();
            assertFalse(target.isBusy());

            // Flushing an idle item is no dependency at all.
            Work flushesIdle = new Work("flushes_idle", target::flush);
            assertTrue(reclaim.queue(flushesIdle));
            flushesIdle.flush();
            assertEquals(v0 + 2, violations(sys));

            for (WorkQueue q : new WorkQueue[] {reclaim, reclaim2, plain, plain2}) {
                q.destroy();
            }
        }
    }

    @Test
    void reclaimWorkerFlushingANonReclaimQueueThrowsInErrorMode() {
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(1).withFlushDependencyIsError(true))) {
            Workqueues wqs = sys.workqueues();
            WorkQueue reclaim = wqs.create("reclaimq", 0, WqFlag.MEM_RECLAIM);
            WorkQueue plain = wqs.create("plainq", 0);
            long v0 = violations(sys);

            AtomicReference<Throwable> queueFlush = new AtomicReference<>();
            Work r = new Work("r", () -> {
                try {
                    plain.flush();
                } catch (Throwable e) {
                    queueFlush.set(e);
                }
            });
            assertTrue(reclaim.queue(r));
            r.flush();
            assertInstanceOf(IllegalStateException.class, queueFlush.get());
            assertEquals("workqueue: WQ_MEM_RECLAIM reclaimq:r is flushing !WQ_MEM_RECLAIM plainq", queueFlush.get().getMessage());
            assertEquals(v0 + 1, violations(sys));

            Completion gate = new Completion(sys.platform(), "gate");
            Work target = new Work("target", gate::waitFor);
            AtomicReference<Throwable> itemFlush = new AtomicReference<>();
            Work r2 = new Work("r2", () -> {
                try {
                    target.flush();
                } catch (Throwable e) {
                    itemFlush.set(e);
                }
            });
            try {
                assertTrue(plain.queue(target));
                Poll.until("target asleep", () -> gate.waitingTasks().size() == 1);
                assertTrue(reclaim.queue(r2));
                r2.flush(); // returns although the target still sleeps: the flush was refused
                assertTrue(target.isBusy());
            } finally {
                gate.completeAll();
            }
            assertInstanceOf(IllegalStateException.class, itemFlush.get());
            assertEquals("workqueue: WQ_MEM_RECLAIM reclaimq:r2 is flushing !WQ_MEM_RECLAIM plainq:target",
                    itemFlush.get().getMessage());
            assertEquals(v0 + 2, violations(sys));

            // cancel_work_sync is exempt (the kernel passes from_cancel).
            AtomicReference<Throwable> cancelErr = new AtomicReference<>();
            Work r3 = new Work("r3", () -> {
                try {
                    target.cancelSync();
                } catch (Throwable e) {
                    cancelErr.set(e);
                }
            });
            Completion gate2 = new Completion(sys.platform(), "gate2");
            Work target2 = new Work("target2", gate2::waitFor);
            Work r3b = new Work("r3", () -> {
                try {
                    target2.cancelSync();
                } catch (Throwable e) {
                    cancelErr.set(e);
                }
            });
            try {
                assertTrue(plain.queue(target2));
                Poll.until("target2 asleep", () -> gate2.waitingTasks().size() == 1);
                assertTrue(reclaim.queue(r3b));
                Poll.until("r3 waits in cancelSync for the running target", () -> r3b.isBusy() && !r3b.isPending()
                        && sys.platform().tasks().stream().anyMatch(t -> "Workqueue: reclaimq r3".equals(Workqueues.describeWorker(t))
                                && t.state() == Task.State.BLOCKED));
            } finally {
                gate2.completeAll();
            }
            r3b.flush();
            assertNull(cancelErr.get());
            assertFalse(target2.isBusy());
            assertTrue(reclaim.queue(r3));
            r3.flush();
            assertNull(cancelErr.get());
            assertEquals(v0 + 2, violations(sys));
            reclaim.destroy();
            plain.destroy();
        }
    }

    @Test
    void noreclaimTaskFlushingANonReclaimQueueIsReported() {
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(1).withFlushDependencyIsError(true))) {
            Workqueues wqs = sys.workqueues();
            WorkQueue plain = wqs.create("plainq", 0);
            WorkQueue reclaim = wqs.create("reclaimq", 0, WqFlag.MEM_RECLAIM);
            long v0 = violations(sys);
            Task self = sys.platform().currentTask();
            try (MemallocScope s = MemallocScope.noreclaim(sys.platform())) {
                IllegalStateException e = assertThrows(IllegalStateException.class, plain::flush);
                assertEquals("workqueue: PF_MEMALLOC task " + self.id() + "(" + self.name() + ") is flushing !WQ_MEM_RECLAIM plainq",
                        e.getMessage());
                reclaim.flush(); // a queue with a rescuer is fine
            }
            assertEquals(v0 + 1, violations(sys));
            plain.flush(); // outside the scope: fine
            assertEquals(v0 + 1, violations(sys));
            plain.destroy();
            reclaim.destroy();
        }
        try (RescuerSystem sys = system(1)) {
            WorkQueue plain = sys.workqueues().create("plainq", 0);
            long v0 = violations(sys);
            try (MemallocScope s = MemallocScope.noreclaim(sys.platform())) {
                plain.flush(); // warning mode: reported, not refused
            }
            assertEquals(v0 + 1, violations(sys));
            plain.destroy();
        }
    }

    @Test
    void flushesThatCanNeverFinishThrow() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("selfq", 0);
            AtomicReference<Throwable> itemErr = new AtomicReference<>();
            AtomicReference<Throwable> queueErr = new AtomicReference<>();
            AtomicReference<Throwable> drainErr = new AtomicReference<>();
            Work[] self = new Work[1];
            self[0] = new Work("flushes_itself", () -> {
                try {
                    self[0].flush();
                } catch (Throwable e) {
                    itemErr.set(e);
                }
            });
            Work flushesQueue = new Work("flushes_queue", () -> {
                try {
                    wq.flush();
                } catch (Throwable e) {
                    queueErr.set(e);
                }
                try {
                    wq.drain();
                } catch (Throwable e) {
                    drainErr.set(e);
                }
            });
            assertTrue(wq.queue(self[0]));
            self[0].flush();
            assertInstanceOf(IllegalStateException.class, itemErr.get());
            assertTrue(itemErr.get().getMessage().startsWith("flush_work of work flushes_itself from its own run in kworker/0:"),
                    itemErr.get().getMessage());
            assertTrue(itemErr.get().getMessage().endsWith("can never finish"), itemErr.get().getMessage());

            assertTrue(wq.queue(flushesQueue));
            flushesQueue.flush();
            assertInstanceOf(IllegalStateException.class, queueErr.get());
            assertTrue(queueErr.get().getMessage().startsWith("flush of workqueue selfq from its own item flushes_queue in kworker/0:"),
                    queueErr.get().getMessage());
            assertTrue(queueErr.get().getMessage().endsWith("can never finish"), queueErr.get().getMessage());
            assertInstanceOf(IllegalStateException.class, drainErr.get());

            // The refused drain left the queue usable from outside.
            Work after = new Work("after", () -> { });
            assertTrue(wq.queue(after));
            after.flush();

            // Flushing another queue from an item is allowed.
            WorkQueue other = sys.workqueues().create("otherq", 0);
            AtomicReference<Throwable> otherErr = new AtomicReference<>();
            Work flushesOther = new Work("flushes_other", () -> {
                try {
                    other.flush();
                } catch (Throwable e) {
                    otherErr.set(e);
                }
            });
            assertTrue(wq.queue(flushesOther));
            flushesOther.flush();
            assertNull(otherErr.get());
            wq.destroy();
            other.destroy();
        }
    }
}
