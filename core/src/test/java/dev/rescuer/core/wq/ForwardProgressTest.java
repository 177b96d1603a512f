package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The forward-progress proof: with worker creation failing for lack of pages and every worker of the
 * pool blocked on items of a second queue, the second queue's rescuer is the only way forward.
 */
class ForwardProgressTest {

    private static final int BLOCKED_WORKERS = 3;

    @ParameterizedTest(name = "second queue MEM_RECLAIM = {0}")
    @ValueSource(booleans = {true, false})
    void rescuerIsTheOnlyWayForwardWhenWorkersCannotBeCreated(boolean memReclaim) {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCreateCooldown(Duration.ofMillis(20))
                .withWatchdogThreshold(Duration.ofMillis(300));
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(512).pagesPerThread(4).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).workqueues(cfg).hungTaskTimeout(Duration.ofMillis(300)).build()) {
            List<LockupReport> lockups = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<dev.rescuer.core.debug.HungTaskReport> hung = new java.util.concurrent.CopyOnWriteArrayList<>();
            sys.workqueues().onLockup(lockups::add);
            sys.hungTaskDetector().onHungTask(hung::add);
            Workqueues wqs = sys.workqueues();
            PageAllocator pages = sys.pages();
            WorkQueue upper = wqs.create("upper", 0);
            WorkQueue lower = memReclaim ? wqs.create("lower", 0, WqFlag.MEM_RECLAIM) : wqs.create("lower", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger lowerDone = new AtomicInteger();
            Completion upperDone = new Completion(sys.platform(), "upper_done");

            // Phase 1, memory plentiful: each upper item blocks on the gate, so the pool grows a
            // worker per item plus one idle worker in reserve.
            for (int i = 0; i < BLOCKED_WORKERS; i++) {
                Completion io = new Completion(sys.platform(), "io" + i);
                Work lowerItem = new Work("endio" + i, () -> {
                    lowerDone.incrementAndGet();
                    io.complete();
                });
                upper.queue(new Work("submit" + i, () -> {
                    gate.waitFor();
                    lower.queue(lowerItem);
                    io.waitFor();
                    upperDone.complete();
                }));
            }
            Poll.until("upper items blocked on the gate and a spare worker idle",
                    () -> gate.waitingTasks().size() == BLOCKED_WORKERS && idleWorkers(sys, "kworker/0:") == 1);

            // Phase 2: no page left, so no worker can be created.
            List<Pages> hog = new ArrayList<>();
            for (Pages p; (p = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
                hog.add(p);
            }
            try {
                phase3(sys, memReclaim, gate, lowerDone, upperDone, lockups, hung, hog);
            } finally {
                hog.forEach(Pages::free); // also when an assertion failed, or closing the system would wait forever
            }
            upper.destroy();
            lower.destroy();
        }
    }

    /** Phase 3 and the return of memory, with every page but the hog's taken. */
    private static void phase3(RescuerSystem sys, boolean memReclaim, Completion gate, AtomicInteger lowerDone,
                               Completion upperDone, List<LockupReport> lockups,
                               List<dev.rescuer.core.debug.HungTaskReport> hung, List<Pages> hog) {
        Workqueues wqs = sys.workqueues();
        PageAllocator pages = sys.pages();
        assertEquals(0, pages.freePages());
        long failuresBefore = wqs.stats().workerCreationFailures();
        long createdBefore = wqs.stats().workersCreated();

        // Phase 3: every upper item now waits for a lower item, which needs a worker.
        gate.completeAll();
        if (memReclaim) {
            for (int i = 0; i < BLOCKED_WORKERS; i++) {
                upperDone.waitFor();
            }
            assertEquals(BLOCKED_WORKERS, lowerDone.get());
            assertTrue(wqs.stats().rescued() >= 1, "the rescuer ran lower items: " + wqs.stats());
            assertEquals(createdBefore, wqs.stats().workersCreated(), "no worker could be created meanwhile");
            Poll.until("the pool's attempt to create a worker fails",
                    () -> wqs.stats().workerCreationFailures() > failuresBefore);
        } else {
            Poll.until("three more failed worker creations",
                    () -> wqs.stats().workerCreationFailures() >= failuresBefore + 3);
            assertEquals(0, lowerDone.get(), "no lower item can run without a worker");
            assertFalse(upperDone.isDone());
            assertEquals(0, wqs.stats().rescued());
            assertEquals(createdBefore, wqs.stats().workersCreated());
            // The watchdog sees the pool stuck, and the dump shows who waits for what.
            Poll.until("a workqueue lockup report", () -> !lockups.isEmpty());
            LockupReport r = lockups.get(0);
            assertTrue(r.stalls().get(0).startsWith("BUG: workqueue lockup - pool 0: cpus=0 nice=0 stuck for"), r.text());
            assertTrue(r.dump().contains("workqueue lower:"), r.dump());
            assertTrue(r.dump().contains("pending: endio"), r.dump());
            assertTrue(r.dump().contains(":submit0 for "), r.dump());
            // The hung-task detector names an upper item blocked on its I/O completion.
            Poll.until("a hung-task report", () -> hung.stream().anyMatch(h -> h.text().contains("Workqueue: upper submit")));
            String h = hung.stream().filter(x -> x.text().contains("Workqueue: upper submit")).findFirst().orElseThrow().text();
            assertTrue(h.startsWith("INFO: task kworker/0:"), h);
            assertTrue(h.contains("waiting on: completion io"), h);
        }
        // Memory comes back: a worker is created and whatever was stuck completes.
        hog.forEach(Pages::free);
        hog.clear();
        if (!memReclaim) {
            for (int i = 0; i < BLOCKED_WORKERS; i++) {
                upperDone.waitFor();
            }
            assertEquals(BLOCKED_WORKERS, lowerDone.get());
        }
    }

    /** Workers of the CPU 0 normal pool sleeping idle, read from the task records. */
    static long idleWorkers(RescuerSystem sys, String prefix) {
        return sys.platform().tasks().stream()
                .filter(t -> t.name().startsWith(prefix) && !t.name().endsWith("H"))
                .filter(t -> t.waitingOn() != null && t.waitingOn().isIdleWait())
                .count();
    }

}
