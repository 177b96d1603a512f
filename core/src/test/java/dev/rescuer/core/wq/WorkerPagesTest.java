package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.*;

/** Worker creation costs pages: each worker's stack and task record come out of the page budget. */
class WorkerPagesTest {

    @ParameterizedTest(name = "pagesPerThread = {0}")
    @ValueSource(ints = {4, 7})
    void eachCreatedWorkerTakesItsPagesFromTheBudget(int pagesPerThread) {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).pagesPerThread(pagesPerThread)
                .workqueues(WorkqueueConfig.defaults().withCpus(1)).build()) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("pages", 0);
            long free0 = sys.pages().freePages();
            long created0 = wqs.stats().workersCreated();
            Completion gate = new Completion(sys.platform(), "gate");
            int blocked = 3;
            try {
                for (int i = 0; i < blocked; i++) {
                    assertTrue(wq.queue(new Work("sleeper" + i, gate::waitFor)));
                }
                Poll.until("every item asleep, each on a worker of its own", () -> gate.waitingTasks().size() == blocked);
                // At quiescence, free pages are down by exactly the price of the workers created.
                Poll.until("free pages account for every worker created", () -> {
                    long created = wqs.stats().workersCreated() - created0;
                    return created >= blocked && free0 - sys.pages().freePages() == (long) pagesPerThread * created;
                });
            } finally {
                gate.completeAll();
            }
            wq.flush();
            long created = wqs.stats().workersCreated() - created0;
            assertEquals(free0 - (long) pagesPerThread * created, sys.pages().freePages(),
                    "idle workers keep their pages");
            wq.destroy();
        }
    }

    @Test
    void startingTheSubsystemChargesEveryThreadItStarts() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).pagesPerThread(4).backgroundReclaim(false)
                .workqueues(WorkqueueConfig.defaults().withCpus(2)).build()) {
            Workqueues wqs = sys.workqueues();
            Poll.until("first workers started", () -> wqs.workerCount() == 6);
            // kthreadd, one worker per pool (2 per CPU + 2 unbound), one softirq context per CPU.
            long threads = 1 + wqs.stats().workersCreated() + 2;
            assertEquals(6, wqs.stats().workersCreated());
            assertEquals(4096 - 4 * threads, sys.pages().freePages());
            long free = sys.pages().freePages();
            WorkQueue r = wqs.create("with_rescuer", 0, WqFlag.MEM_RECLAIM);
            assertEquals(free - 4, sys.pages().freePages(), "a rescuer thread costs pages too");
            r.destroy();
            Poll.until("the rescuer's pages come back", () -> sys.pages().freePages() == free);
        }
    }

    @Test
    void aWorkerWhoseCreationFinishesAfterThePoolStoppedIsToldToDieJoinedAndRefunded() {
        // The race of close() with a manager's creation, in its losing order: stopAll() has run
        // when kthreadd hands the new thread back.
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).pagesPerThread(4)
                .workqueues(WorkqueueConfig.defaults().withCpus(1)).build()) {
            WorkerPool pool = sys.workqueues().unboundPool(false);
            for (Worker w : pool.stopAll()) {
                assertTrue(w.join(dev.rescuer.core.platform.Platform.NO_DEADLINE));
            }
            String prefix = WqTesting.unboundPrefix(1);
            Poll.until("the stopped pool's workers are gone", () -> WqTesting.liveTasks(sys, prefix) == 0);
            long free = sys.pages().freePages();
            assertNull(pool.createWorker(), "a worker created after stopAll() is not handed to the pool");
            assertEquals(0, WqTesting.liveTasks(sys, prefix), "and it has exited");
            Poll.until("its pages come back", () -> sys.pages().freePages() == free);
        }
    }
}
