package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** Extra idle workers are retired after the idle timeout ({@code idle_cull_fn}), down to two idle per pool. */
class IdleReapTest {

    private static final int BURST = 8;

    @Test
    void workersCreatedForABurstAreReapedOnceIdle() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withIdleTimeout(Duration.ofMillis(100));
        try (RescuerSystem sys = system(cfg)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("burst", 0);
            long free0 = sys.pages().freePages();
            int workers0 = wqs.workerCount();
            long reaped0 = wqs.stats().workersReaped();
            long created0 = wqs.stats().workersCreated();

            for (int round = 0; round < 2; round++) {
                Completion gate = new Completion(sys.platform(), "gate" + round);
                AtomicInteger done = new AtomicInteger();
                try {
                    for (int i = 0; i < BURST; i++) {
                        assertTrue(wq.queue(new Work("burst" + round + "_" + i, () -> {
                            gate.waitFor();
                            done.incrementAndGet();
                        })));
                    }
                    Poll.until("the whole burst asleep on the gate", () -> gate.waitingTasks().size() == BURST);
                } finally {
                    gate.completeAll();
                }
                int peak = wqs.workerCount();
                assertTrue(peak >= workers0 + BURST - 1, "the burst made the pool create workers: " + peak + " vs " + workers0);
                wq.flush();
                assertEquals(BURST, done.get());

                long reapedBefore = wqs.stats().workersReaped();
                // The pool keeps two idle workers; the rest are retired after the idle timeout.
                Poll.until("extra idle workers reaped", () -> liveTasks(sys, "kworker/0:") == 2);
                long reaped = wqs.stats().workersReaped() - reapedBefore;
                assertTrue(reaped > 0, "round " + round + ": " + wqs.stats());
                assertEquals(peak - reaped, wqs.workerCount(), "workerCount drops by what was reaped");
                assertTrue(wqs.workerCount() < peak);
                assertEquals(2, idleTasks(sys, "kworker/0:"));
            }
            long reapedTotal = wqs.stats().workersReaped() - reaped0;
            long createdTotal = wqs.stats().workersCreated() - created0;
            assertEquals(workers0 + createdTotal - reapedTotal, wqs.workerCount(), "created and reaped balance");
            // Reaped workers gave back their pages.
            int ppt = sys.pagesPerThread();
            Poll.until("pages of reaped workers returned",
                    () -> sys.pages().freePages() == free0 - ppt * (wqs.workerCount() - workers0));
            wq.destroy();
        }
        // (close() then stops what remains; see WorkqueueStressTest for the no-threads-left check.)
    }

    @Test
    void noReapingWithTheDefaultTimeout() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("burst_default", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            try {
                for (int i = 0; i < BURST; i++) {
                    wq.queue(new Work("b" + i, gate::waitFor));
                }
                Poll.until("the whole burst asleep", () -> gate.waitingTasks().size() == BURST);
            } finally {
                gate.completeAll();
            }
            wq.flush();
            Poll.until("all workers idle", () -> idleTasks(sys, "kworker/0:") == liveTasks(sys, "kworker/0:"));
            assertEquals(0, wqs.stats().workersReaped(), "idle workers live for the 300 s default");
            assertTrue(liveTasks(sys, "kworker/0:") > 2);
            wq.destroy();
        }
    }

    @Test
    void closeRightAfterAReapLeavesNoWorkerThreadAlive() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withIdleTimeout(Duration.ofMillis(20));
        RescuerSystem sys = system(cfg);
        try {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("burst", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            for (int i = 0; i < BURST; i++) {
                wq.queue(new Work("burst" + i, gate::waitFor));
            }
            Poll.until("the whole burst asleep on the gate", () -> gate.waitingTasks().size() == BURST);
            gate.completeAll();
            wq.flush();
            wq.destroy();
            Poll.until("a reap", () -> wqs.stats().workersReaped() > 0);
        } finally {
            sys.close(); // at once: reaped workers may still be on their way out
        }
        List<String> alive = new java.util.ArrayList<>();
        for (dev.rescuer.core.platform.Task t : sys.platform().tasks()) {
            if (t.name().startsWith("kworker") || t.name().equals("kthreadd") || t.name().startsWith("ksoftirqd")) {
                alive.add(t.name());
            }
        }
        assertEquals(List.of(), alive, "close() joins every worker, reaped ones included");
    }
}
