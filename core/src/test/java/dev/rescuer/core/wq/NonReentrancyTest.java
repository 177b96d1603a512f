package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A work item never runs concurrently with itself anywhere in the system, and re-queueing it while it
 * runs makes it run again afterwards, on the same worker.
 */
class NonReentrancyTest {

    private static final int CPUS = 4;

    private static final class Probe {
        final AtomicInteger inBody = new AtomicInteger();
        final AtomicInteger maxInBody = new AtomicInteger();
        final AtomicInteger runs = new AtomicInteger();
        final AtomicLong queued = new AtomicLong();
        final Set<String> pools = ConcurrentHashMap.newKeySet();
        Work work;
    }

    @Test
    void neverRunsConcurrentlyWithItselfWhenQueuedFromManyTasksOnManyCpus() {
        try (RescuerSystem sys = system(CPUS)) {
            WorkQueue wq = sys.workqueues().create("nonreentrant", 0);
            WorkQueue uq = sys.workqueues().create("nonreentrant_unbound", 0, WqFlag.UNBOUND);
            List<Probe> probes = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Probe p = new Probe();
                p.work = new Work("nr" + i, () -> {
                    raise(p.maxInBody, p.inBody.incrementAndGet());
                    p.runs.incrementAndGet();
                    p.pools.add(poolOf(sys.platform().currentTask().name()));
                    if (ThreadLocalRandom.current().nextBoolean()) {
                        // Declared as blocking: the pool starts another worker meanwhile, which may
                        // find this very item queued again; only non-reentrancy keeps it off.
                        try (Blocking b = Blocking.enter(sys.platform())) {
                            spinUntil(p.work::isPending, Duration.ofMillis(2)); // queued again meanwhile
                            burn(3_000);
                        }
                    } else {
                        burn(200);
                    }
                    p.inBody.decrementAndGet();
                });
                probes.add(p);
            }
            runTasks(sys.platform(), "producer", 4, id -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int n = 0; n < 20_000; n++) {
                    int k = rnd.nextInt(probes.size());
                    Probe p = probes.get(k);
                    boolean ok = k < 4 ? wq.queueOn(rnd.nextInt(CPUS), p.work) : uq.queue(p.work);
                    if (ok) {
                        p.queued.incrementAndGet();
                    }
                }
            });
            wq.flush();
            uq.flush();
            for (Probe p : probes) {
                assertEquals(1, p.maxInBody.get(), p.work + " ran concurrently with itself");
                assertEquals(p.queued.get(), p.runs.get(), p.work + ": every successful queueing runs exactly once");
                assertFalse(p.work.isBusy());
            }
            // (Where a per-CPU item runs depends on whether it was idle when queued elsewhere; the
            // cross-CPU redirect itself is pinned down in requeuedWhileRunningRunsAgainAfterwardsOnTheSameWorker.)
            wq.destroy();
            uq.destroy();
        }
    }

    @Test
    void neverRunsConcurrentlyWithItselfWhenItsOwnRunsAndOtherWorkersRequeueIt() {
        try (RescuerSystem sys = system(CPUS)) {
            WorkQueue wq = sys.workqueues().create("nonreentrant_self", 0);
            Probe p = new Probe();
            AtomicInteger budget = new AtomicInteger(5_000);
            Work[] self = new Work[1];
            p.work = self[0] = new Work("selfish", () -> {
                raise(p.maxInBody, p.inBody.incrementAndGet());
                p.runs.incrementAndGet();
                p.pools.add(poolOf(sys.platform().currentTask().name()));
                if (budget.decrementAndGet() > 0 && wq.queueOn(ThreadLocalRandom.current().nextInt(CPUS), self[0])) {
                    p.queued.incrementAndGet(); // re-queued onto some CPU while running
                }
                try (Blocking b = Blocking.enter(sys.platform())) {
                    burn(3_000); // lets the pool start another worker, which will find the item queued
                }
                p.inBody.decrementAndGet();
            });
            // Other items, on every CPU, keep queueing it too.
            List<Work> helpers = new ArrayList<>();
            for (int cpu = 0; cpu < CPUS; cpu++) {
                helpers.add(new Work("helper" + cpu, () -> {
                    for (int i = 0; i < 200; i++) {
                        if (wq.queue(self[0])) {
                            p.queued.incrementAndGet();
                        }
                    }
                }));
            }
            assertTrue(wq.queueOn(0, p.work));
            p.queued.incrementAndGet();
            for (int round = 0; round < 20; round++) {
                for (int cpu = 0; cpu < CPUS; cpu++) {
                    wq.queueOn(cpu, helpers.get(cpu));
                }
            }
            budget.set(0);
            wq.drain();
            assertEquals(1, p.maxInBody.get(), "ran concurrently with itself");
            assertEquals(p.queued.get(), p.runs.get(), "every successful queueing runs exactly once");
            wq.destroy();
        }
    }

    @ParameterizedTest(name = "unbound = {0}")
    @ValueSource(booleans = {false, true})
    void requeuedWhileRunningRunsAgainAfterwardsOnTheSameWorker(boolean unbound) {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = unbound ? wqs.create("again_unbound", 0, WqFlag.UNBOUND) : wqs.create("again", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            Probe p = new Probe();
            List<Task> ranOn = Collections.synchronizedList(new ArrayList<>());
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            p.work = new Work("again", () -> {
                raise(p.maxInBody, p.inBody.incrementAndGet());
                int n = p.runs.incrementAndGet();
                ranOn.add(sys.platform().currentTask());
                order.add(n);
                if (n == 1) {
                    gate.waitFor();
                }
                order.add(-n);
                p.inBody.decrementAndGet();
            });
            try {
                requeueWhileAsleep(sys, wq, gate, p, ranOn, unbound);
            } finally {
                gate.completeAll();
            }
            p.work.flush();

            assertEquals(2, p.runs.get());
            assertEquals(1, p.maxInBody.get(), "the second run overlapped the first");
            assertEquals(List.of(1, -1, 2, -2), order, "the second run starts after the first ends");
            assertSame(ranOn.get(0), ranOn.get(1), "the re-queued item runs on the worker that was running it");
            wq.destroy();
        }
    }

    private static void requeueWhileAsleep(RescuerSystem sys, WorkQueue wq, Completion gate, Probe p, List<Task> ranOn,
            boolean unbound) {
        assertTrue(wq.queueOn(0, p.work));
        Poll.until("first run asleep on the gate", () -> gate.waitingTasks().size() == 1);
        String prefix = unbound ? unboundPrefix(2) : "kworker/0:";
        // The pool has an idle worker that could take the item at once, were it not running.
        Poll.until("an idle worker in the running item's pool", () -> idleTasks(sys, prefix) >= 1);
        assertFalse(p.work.isPending());
        assertTrue(p.work.isBusy());

        // Queue it from here onto the other CPU: it must go where it is running.
        assertTrue(wq.queueOn(1, p.work), "queueing an item while it runs succeeds");
        assertTrue(p.work.isPending());
        assertFalse(wq.queueOn(0, p.work), "now it is pending");
        // The idle worker woken for it finds it running elsewhere and hands it to that worker (the
        // kernel's assign_work collision); only then is the first run let go, so that which worker
        // runs it next is decided by the collision rule and not by a race.
        Worker first = Workqueues.currentWorker(ranOn.get(0));
        Poll.until("the re-queued item is handed to the worker running it", () -> p.work.list == first.scheduled);
    }

    @Test
    void requeuedFromItsOwnRunRunsAgainOnTheSameWorker() {
        // A large CPU-intensive threshold: only concurrency management decides who runs what.
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(2).withCpuIntensiveThreshold(Duration.ofSeconds(10)))) {
            WorkQueue wq = sys.workqueues().create("self_again", 0);
            List<Task> ranOn = Collections.synchronizedList(new ArrayList<>());
            Work[] self = new Work[1];
            self[0] = new Work("self_again", () -> {
                ranOn.add(sys.platform().currentTask());
                if (ranOn.size() < 50) {
                    assertTrue(wq.queueOn(1 - sys.workqueues().currentCpu(), self[0]));
                }
            });
            assertTrue(wq.queue(self[0]));
            Poll.until("fifty runs", () -> ranOn.size() == 50);
            self[0].flush();
            assertEquals(50, ranOn.size());
            assertEquals(1, ranOn.stream().distinct().count(), "all runs on one worker: " + ranOn);
            wq.destroy();
        }
    }

    @Test
    void requeueForTheRunningQueueFindsTheRunEvenIfTheLastQueueingWasOnAnotherQueue() {
        // __queue_work reads the last pool from the item whatever queue it was on, then checks that
        // the worker running the item there runs it for this queue.
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(2).withCpuIntensiveThreshold(Duration.ofSeconds(10)))) {
            WorkQueue a = sys.workqueues().create("a", 0);
            WorkQueue b = sys.workqueues().create("b", 0);
            Completion gate = new Completion(sys.platform(), "gate");
            Probe p = new Probe();
            p.work = new Work("x", () -> {
                p.maxInBody.accumulateAndGet(p.inBody.incrementAndGet(), Math::max);
                if (p.runs.incrementAndGet() == 1) {
                    gate.waitFor();
                }
                p.inBody.decrementAndGet();
            });
            assertTrue(a.queueOn(0, p.work));
            Poll.until("x runs for a on CPU 0", () -> gate.waitingTasks().size() == 1);
            assertTrue(b.queueOn(0, p.work)); // the last queueing is now b's, on the same pool
            assertTrue(p.work.cancel());
            assertTrue(a.queueOn(1, p.work));
            assertSame(a.pwqFor(0), p.work.pwq, "queued behind the run on CPU 0's pool, not on CPU 1's");
            gate.complete();
            a.flush();
            assertEquals(2, p.runs.get());
            assertEquals(1, p.maxInBody.get());
            a.destroy();
            b.destroy();
        }
    }
}
