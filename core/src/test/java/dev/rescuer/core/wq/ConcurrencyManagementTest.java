package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Concurrency management on a per-CPU pool: about one running worker, another started when one sleeps
 * in a core primitive, {@code CPU_INTENSIVE} items and unbound pools outside the count, the automatic
 * CPU-hog threshold, and {@link Blocking} regions.
 */
class ConcurrencyManagementTest {

    /** Bound on spin-waits inside items: long enough never to be hit on a healthy run. */
    private static final Duration SPIN_BOUND = Duration.ofSeconds(10);

    /** One CPU, and a CPU-intensive threshold so large that it explains nothing in these tests. */
    private static RescuerSystem oneCpuNoHogDetection() {
        return system(WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofSeconds(30)));
    }

    @Test
    void whenARunningItemSleepsAnotherItemOfThePoolStarts() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue wq = sys.workqueues().create("cm", 0);
            Completion c = new Completion(sys.platform(), "a_waits_for_b");
            AtomicReference<Task> aTask = new AtomicReference<>();
            AtomicReference<Task> bTask = new AtomicReference<>();
            AtomicBoolean bSawABlocked = new AtomicBoolean();
            AtomicBoolean aDone = new AtomicBoolean();
            AtomicBoolean bQueued = new AtomicBoolean();
            Work a = new Work("a", () -> {
                aTask.set(sys.platform().currentTask());
                spinUntil(bQueued::get, SPIN_BOUND); // running, so queueing b wakes nobody
                c.waitFor();
                aDone.set(true);
            });
            Work b = new Work("b", () -> {
                bTask.set(sys.platform().currentTask());
                Task at = aTask.get();
                bSawABlocked.set(at != null && c.waitingTasks().contains(at) && at.state() == Task.State.BLOCKED);
                c.complete();
            });
            assertTrue(wq.queue(a));
            try {
                Poll.until("a running and a spare worker idle", () -> aTask.get() != null && settledIdleWorkers(sys, "kworker/0:") >= 1);
                assertTrue(wq.queue(b)); // a counts as running: no worker is woken for b now
                bQueued.set(true);       // a goes to sleep; only the sleep hook can start b
                Poll.until("a finishes: b must have run while a slept", aDone::get);
            } finally {
                c.completeAll(); // never leave a worker asleep for close() to wait on
            }
            assertTrue(bSawABlocked.get(), "b ran while a was asleep in the completion");
            assertNotSame(aTask.get(), bTask.get());
            assertEquals(0, sys.workqueues().stats().cpuIntensiveMarked(), "only concurrency management explains it");
            wq.destroy();
        }
    }

    @Test
    void itemsThatDoNotSleepRunOneAtATimeOnAPerCpuPool() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue wq = sys.workqueues().create("cm_serial", 0);
            WorkQueue wq2 = sys.workqueues().create("cm_serial2", 0);
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            AtomicInteger runs = new AtomicInteger();
            for (int i = 0; i < 200; i++) {
                (i % 2 == 0 ? wq : wq2).queue(new Work("s" + i, () -> {
                    raise(max, inBody.incrementAndGet());
                    burn(2_000);
                    runs.incrementAndGet();
                    inBody.decrementAndGet();
                }));
            }
            wq.flush();
            wq2.flush();
            assertEquals(200, runs.get());
            assertEquals(1, max.get(), "a per-CPU pool keeps one running worker while none sleeps");
            assertTrue(liveTasks(sys, "kworker/0:") >= 2, "the pool had a spare worker that could have run them");
            wq.destroy();
            wq2.destroy();
        }
    }

    @Test
    void cpuIntensiveItemsDoNotCountTowardConcurrency() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue wq = sys.workqueues().create("hogs", 0, WqFlag.CPU_INTENSIVE);
            AtomicBoolean xUp = new AtomicBoolean();
            AtomicBoolean yUp = new AtomicBoolean();
            AtomicBoolean xSawY = new AtomicBoolean();
            AtomicBoolean ySawX = new AtomicBoolean();
            Work x = new Work("x", () -> {
                xUp.set(true);
                xSawY.set(spinUntil(yUp::get, SPIN_BOUND));
            });
            Work y = new Work("y", () -> {
                yUp.set(true);
                ySawX.set(spinUntil(xUp::get, SPIN_BOUND));
            });
            assertTrue(wq.queue(x));
            assertTrue(wq.queue(y));
            wq.flush();
            assertTrue(xSawY.get() && ySawX.get(), "two CPU_INTENSIVE items spinning for each other both ran at once");
            assertEquals(0, sys.workqueues().stats().cpuIntensiveMarked());
            wq.destroy();
        }
    }

    @Test
    void aNormalItemStartsWhileACpuIntensiveItemSpins() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue hogs = sys.workqueues().create("hogs", 0, WqFlag.CPU_INTENSIVE);
            WorkQueue normal = sys.workqueues().create("normal", 0);
            AtomicBoolean normalRan = new AtomicBoolean();
            AtomicBoolean hogSawIt = new AtomicBoolean();
            Work hog = new Work("hog", () -> hogSawIt.set(spinUntil(normalRan::get, SPIN_BOUND)));
            assertTrue(hogs.queue(hog));
            assertTrue(normal.queue(new Work("n", () -> normalRan.set(true))));
            hog.flush();
            normal.flush();
            assertTrue(hogSawIt.get(), "the normal item ran while the CPU_INTENSIVE item was still spinning");
            hogs.destroy();
            normal.destroy();
        }
    }

    @Test
    void unboundQueuesAreNotConcurrencyManaged() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue wq = sys.workqueues().create("unbound_barrier", 0, WqFlag.UNBOUND);
            int n = 6;
            AtomicInteger started = new AtomicInteger();
            AtomicInteger passed = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                wq.queue(new Work("barrier" + i, () -> {
                    started.incrementAndGet();
                    if (spinUntil(() -> started.get() == n, SPIN_BOUND)) {
                        passed.incrementAndGet();
                    }
                }));
            }
            wq.flush();
            assertEquals(n, passed.get(), "every item of an unbound queue started while the others spun");
            wq.destroy();
        }
    }

    @Test
    void aPerCpuItemThatHogsTheCpuIsMarkedCpuIntensiveAfterTheThreshold() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofMillis(20));
        try (RescuerSystem sys = system(cfg)) {
            WorkQueue wq = sys.workqueues().create("hogq", 0);
            AtomicBoolean secondRan = new AtomicBoolean();
            AtomicBoolean hogSawIt = new AtomicBoolean();
            long marked0 = sys.workqueues().stats().cpuIntensiveMarked();
            Work hog = new Work("hog", () -> hogSawIt.set(spinUntil(secondRan::get, SPIN_BOUND)));
            assertTrue(wq.queue(hog));
            assertTrue(wq.queue(new Work("second", () -> secondRan.set(true))));
            wq.flush();
            assertTrue(hogSawIt.get(), "the second item ran while the hog still spun");
            assertTrue(sys.workqueues().stats().cpuIntensiveMarked() > marked0, sys.workqueues().stats().toString());
            wq.destroy();
        }
    }

    @Test
    void aBlockingRegionLetsAnotherItemRun() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue wq = sys.workqueues().create("blockingq", 0);
            AtomicBoolean secondRan = new AtomicBoolean();
            AtomicBoolean sawIt = new AtomicBoolean();
            Work foreign = new Work("jdbc", () -> {
                try (Blocking b = Blocking.enter(sys.platform())) {
                    sawIt.set(spinUntil(secondRan::get, SPIN_BOUND)); // a foreign blocking call, as far as the pool knows
                }
            });
            assertTrue(wq.queue(foreign));
            assertTrue(wq.queue(new Work("second", () -> secondRan.set(true))));
            wq.flush();
            assertTrue(sawIt.get(), "the second item ran while the first was in a Blocking region");
            assertEquals(0, sys.workqueues().stats().cpuIntensiveMarked(), "only the Blocking region explains it");

            // Outside a worker, a Blocking region does nothing.
            try (Blocking b = Blocking.enter(sys.platform())) {
                assertNotNull(b);
            }
            wq.destroy();
        }
    }

    @Test
    void highPriorityPoolHasItsOwnConcurrencyManagement() {
        try (RescuerSystem sys = oneCpuNoHogDetection()) {
            WorkQueue normal = sys.workqueues().create("normalq", 0);
            WorkQueue high = sys.workqueues().create("highq", 0, WqFlag.HIGHPRI);
            AtomicBoolean highRan = new AtomicBoolean();
            AtomicBoolean sawIt = new AtomicBoolean();
            AtomicReference<String> highWorker = new AtomicReference<>();
            Work hog = new Work("hog", () -> sawIt.set(spinUntil(highRan::get, SPIN_BOUND)));
            assertTrue(normal.queue(hog));
            assertTrue(high.queue(new Work("hi", () -> {
                highWorker.set(sys.platform().currentTask().name());
                highRan.set(true);
            })));
            hog.flush();
            high.flush();
            assertTrue(sawIt.get(), "a high-priority item runs while the normal pool's only runner hogs the CPU");
            assertTrue(highWorker.get().startsWith("kworker/0:") && highWorker.get().endsWith("H"), highWorker.get());
            normal.destroy();
            high.destroy();
        }
    }
}
