package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** BH workqueues: items run in the CPU's softirq context, atomically, one at a time per CPU. */
class BhWorkqueueTest {

    @Test
    void bhItemsRunInAtomicContextWhereSleepingThrows() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue bh = sys.workqueues().create("bhq", 0, WqFlag.BH);
            Mutex mutex = new Mutex(sys.platform(), "m");
            Completion done = new Completion(sys.platform(), "done");
            done.completeAll(); // waiting on it would not even sleep: the check must come first
            AtomicReference<Throwable> mutexErr = new AtomicReference<>();
            AtomicReference<Throwable> completionErr = new AtomicReference<>();
            AtomicReference<Throwable> blockingErr = new AtomicReference<>();
            AtomicReference<Throwable> flushErr = new AtomicReference<>();
            AtomicInteger atomicDepth = new AtomicInteger(-1);
            AtomicReference<String> taskName = new AtomicReference<>();
            WorkQueue other = sys.workqueues().create("other", 0);
            long failures0 = sys.workqueues().stats().failures();
            Work w = new Work("bh_item", () -> {
                Task self = sys.platform().currentTask();
                atomicDepth.set(self.atomicDepth());
                taskName.set(self.name());
                try {
                    mutex.lock();
                    mutex.unlock();
                } catch (Throwable e) {
                    mutexErr.set(e);
                }
                try {
                    done.waitFor();
                } catch (Throwable e) {
                    completionErr.set(e);
                }
                try (Blocking b = Blocking.enter(sys.platform())) {
                    assertNotNull(b);
                } catch (Throwable e) {
                    blockingErr.set(e);
                }
                try {
                    other.flush();
                } catch (Throwable e) {
                    flushErr.set(e);
                }
            });
            assertTrue(bh.queue(w));
            w.flush();
            assertTrue(atomicDepth.get() > 0, "a BH item runs in atomic context");
            assertEquals("ksoftirqd/0", taskName.get());
            assertInstanceOf(AtomicContextException.class, mutexErr.get(), "Mutex.lock in a BH item");
            assertSame(mutex, ((AtomicContextException) mutexErr.get()).primitive());
            assertInstanceOf(AtomicContextException.class, completionErr.get(), "Completion.waitFor in a BH item");
            assertInstanceOf(AtomicContextException.class, blockingErr.get(), "a Blocking region in a BH item");
            assertInstanceOf(AtomicContextException.class, flushErr.get(), "flushing a queue from a BH item");
            assertFalse(mutex.isLocked());
            assertEquals(failures0, sys.workqueues().stats().failures());
            bh.destroy();
            other.destroy();
        }
    }

    @Test
    void systemBhQueuesHaveNoRescuer() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            for (WorkQueue q : new WorkQueue[] {wqs.systemBhWq(), wqs.systemBhHighpriWq()}) {
                assertFalse(q.hasRescuer(), q.name());
                assertNull(q.rescuerTask(), q.name());
                assertTrue(q.flags().contains(WqFlag.BH), q.name());
            }
            assertEquals("events_bh", wqs.systemBhWq().name());
            assertEquals("events_bh_highpri", wqs.systemBhHighpriWq().name());
            assertTrue(wqs.systemBhHighpriWq().flags().contains(WqFlag.HIGHPRI));
        }
    }

    @Test
    void itemsOnOneCpusBhQueuesNeverOverlap() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue mine = wqs.create("bh_mine", 0, WqFlag.BH);
            WorkQueue[] queues = {wqs.systemBhWq(), wqs.systemBhHighpriWq(), mine};
            AtomicInteger[] inBody = {new AtomicInteger(), new AtomicInteger()};
            AtomicInteger[] max = {new AtomicInteger(), new AtomicInteger()};
            AtomicInteger runs = new AtomicInteger();
            AtomicLong queued = new AtomicLong();
            Set<String> wrongContext = ConcurrentHashMap.newKeySet();
            runTasks(sys.platform(), "producer", 3, p -> {
                for (int i = 0; i < 600; i++) {
                    int cpu = i % 2;
                    Work w = new Work("bh" + p + "_" + i, () -> {
                        raise(max[cpu], inBody[cpu].incrementAndGet());
                        String name = sys.platform().currentTask().name();
                        if (!name.equals("ksoftirqd/" + cpu)) {
                            wrongContext.add(name + " for cpu " + cpu);
                        }
                        burn(300);
                        runs.incrementAndGet();
                        inBody[cpu].decrementAndGet();
                    });
                    if (queues[(p + i) % 3].queueOn(cpu, w)) {
                        queued.incrementAndGet();
                    }
                }
            });
            for (WorkQueue q : queues) {
                q.flush();
            }
            assertEquals(queued.get(), runs.get());
            assertEquals(1800, runs.get());
            assertEquals(1, max[0].get(), "items on CPU 0's BH queues overlapped");
            assertEquals(1, max[1].get(), "items on CPU 1's BH queues overlapped");
            assertEquals(Set.of(), wrongContext, "BH items run in the softirq context of the CPU they were queued on");
            mine.destroy();
        }
    }

    @Test
    void flushAndCancelWorkForBhItems() {
        try (RescuerSystem sys = system(1);
             DrivenTask t = new DrivenTask(sys.platform(), "flusher", new AtomicLong())) {
            WorkQueue bh = sys.workqueues().create("bh_fc", 0, WqFlag.BH);
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean holderReleased = new AtomicBoolean();
            AtomicBoolean holding = new AtomicBoolean();
            // The holder occupies CPU 0's softirq context (spinning, as BH code may) so that the next
            // items stay pending on the BH pool.
            Work holder = new Work("holder", () -> {
                holding.set(true);
                holderReleased.set(spinUntil(release::get, Duration.ofSeconds(20)));
            });
            AtomicInteger cancelledRuns = new AtomicInteger();
            AtomicInteger flushedRuns = new AtomicInteger();
            Work cancelled = new Work("cancelled", cancelledRuns::incrementAndGet);
            Work cancelledSync = new Work("cancelled_sync", cancelledRuns::incrementAndGet);
            Work flushed = new Work("flushed", flushedRuns::incrementAndGet);
            try {
                assertTrue(bh.queueOn(0, holder));
                Poll.until("holder running in the softirq context", holding::get);
                assertTrue(bh.queueOn(0, cancelled));
                assertTrue(bh.queueOn(0, cancelledSync));
                assertTrue(bh.queueOn(0, flushed));
                assertTrue(cancelled.isPending());
                assertTrue(cancelled.cancel(), "a pending BH item can be cancelled");
                assertTrue(cancelledSync.cancelSync(), "and cancelled synchronously");
                assertFalse(cancelled.isPending());
                assertFalse(cancelledSync.isPending());

                DrivenTask.Op flush = t.submit(flushed::flush);
                Poll.until("flush of a pending BH item waits", () -> t.task().state() == Task.State.BLOCKED);
                assertFalse(flush.isDone());
                assertEquals(0, flushedRuns.get());
                release.set(true);
                DrivenTask.awaitDone(flush);
                DrivenTask.rethrow(flush);
                assertEquals(1, flushedRuns.get(), "flush returned after the BH item ran");
            } finally {
                release.set(true);
            }
            assertTrue(holderReleased.get());
            bh.flush();
            assertEquals(0, cancelledRuns.get(), "cancelled BH items never ran");

            // Queue-level flush and drain of a BH queue.
            AtomicInteger many = new AtomicInteger();
            for (int i = 0; i < 100; i++) {
                bh.queue(new Work("many" + i, many::incrementAndGet));
            }
            bh.flush();
            assertEquals(100, many.get());
            bh.destroy();
        }
    }

    @Test
    void delayedBhItemsRunInTheSoftirqContext() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue bh = sys.workqueues().systemBhWq();
            AtomicReference<String> ranOn = new AtomicReference<>();
            DelayedWork dw = new DelayedWork("bh_delayed", () -> ranOn.set(sys.platform().currentTask().name()));
            assertTrue(bh.queueDelayed(dw, Duration.ofMillis(5)));
            Poll.until("the delayed BH item ran", () -> ranOn.get() != null);
            assertEquals("ksoftirqd/0", ranOn.get());
        }
    }
}
