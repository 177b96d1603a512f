package dev.rescuer.core.wq;

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
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCreateCooldown(Duration.ofMillis(20));
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(512).pagesPerThread(4).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).workqueues(cfg).build()) {
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
            awaitCondition("upper items blocked on the gate and a spare worker idle",
                    () -> gate.waitingTasks().size() == BLOCKED_WORKERS && idleWorkers(sys, "kworker/0:") == 1);

            // Phase 2: no page left, so no worker can be created.
            List<Pages> hog = new ArrayList<>();
            for (Pages p; (p = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
                hog.add(p);
            }
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
                awaitCondition("the pool's attempt to create a worker fails",
                        () -> wqs.stats().workerCreationFailures() > failuresBefore);
            } else {
                awaitCondition("three more failed worker creations",
                        () -> wqs.stats().workerCreationFailures() >= failuresBefore + 3);
                assertEquals(0, lowerDone.get(), "no lower item can run without a worker");
                assertFalse(upperDone.isDone());
                assertEquals(0, wqs.stats().rescued());
                assertEquals(createdBefore, wqs.stats().workersCreated());
            }
            // Memory comes back: a worker is created and whatever was stuck completes.
            hog.forEach(Pages::free);
            if (!memReclaim) {
                for (int i = 0; i < BLOCKED_WORKERS; i++) {
                    upperDone.waitFor();
                }
                assertEquals(BLOCKED_WORKERS, lowerDone.get());
            }
            upper.destroy();
            lower.destroy();
        }
    }

    /** Workers of the CPU 0 normal pool sleeping idle, read from the task records. */
    static long idleWorkers(RescuerSystem sys, String prefix) {
        return sys.platform().tasks().stream()
                .filter(t -> t.name().startsWith(prefix) && !t.name().endsWith("H"))
                .filter(t -> t.waitingOn() != null && t.waitingOn().isIdleWait())
                .count();
    }

    static void awaitCondition(String what, BooleanSupplier cond) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
