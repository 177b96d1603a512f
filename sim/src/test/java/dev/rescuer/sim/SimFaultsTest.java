package dev.rescuer.sim;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocationException;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WorkqueueStats;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.strategy.RandomWalk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fault injection: which thread starts and allocations fail, how late timers fire, and that every
 * random fault replays with the run's seed. Results are recorded inside the run and asserted after it.
 */
class SimFaultsTest {

    private CarrierPool pool;

    @BeforeEach
    void createPool() {
        pool = new CarrierPool("sim-faults-test");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    /** Runs {@code body} as the first task of a fresh simulation of {@code seed}; the run must end normally. */
    private SimPlatform runTask(long seed, Consumer<SimPlatform> body) {
        SimPlatform sim = new SimPlatform(seed, new RandomWalk(seed), pool, 100_000);
        SimPlatform.Stop stop = sim.run("init", () -> {
            body.accept(sim);
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertEquals(SimPlatform.StopKind.DONE, stop.kind(), stop.reason());
        return sim;
    }

    /** Tries {@code n} thread starts; each entry says whether that start failed (and the message if so). */
    private static List<String> tryStarts(SimPlatform sim, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            try {
                sim.startThread("t" + i, () -> { });
                out.add(null);
            } catch (ThreadStartException e) {
                out.add(e.getMessage());
            }
        }
        return out;
    }

    @Test
    void threadStartsCanFailAlways() {
        List<String> results = new ArrayList<>();
        SimPlatform sim = runTask(1, s -> {
            results.addAll(tryStarts(s, 1));
            s.faults().threadStartFailsAlways();
            results.addAll(tryStarts(s, 3));
        });
        assertNull(results.get(0), "faults apply only once configured");
        for (String m : results.subList(1, 4)) {
            assertNotNull(m, "a start succeeded: " + results);
            assertTrue(m.contains("injected"), m);
        }
        List<String> tail = sim.trace().tail(1000, sim::taskName);
        assertEquals(3, tail.stream().filter(l -> l.contains(" FAULT ")).count(), String.join("\n", tail));
    }

    /**
     * Whether a start is a pool worker's is the runtime's word, not the thread's name: a task named
     * like a kworker (or a rescuer) starts while every worker creation fails.
     */
    @Test
    void aTaskNamedLikeAWorkerStartsWhileWorkerCreationFails() {
        List<String> results = new ArrayList<>();
        runTask(1, s -> {
            s.faults().workerStartFailsAlways();
            for (String name : List.of("kworker/0:1", "kworker/u2:0H", "kworker/R-kcopyd", "writer/0")) {
                try {
                    s.startThread(name, () -> { });
                    results.add(null);
                } catch (ThreadStartException e) {
                    results.add(e.getMessage());
                }
            }
        });
        assertEquals(Arrays.asList(null, null, null, null), results, "no start here is a pool worker's");
    }

    /**
     * With every worker creation failing, a pool's manager cannot add the worker its queued items need,
     * while the queue's rescuer (started after the fault was set) starts and runs them.
     */
    @Test
    void everyPoolWorkerCreationFailsWhileTheRescuerStartsAndRunsTheItems() {
        long[] stats = new long[3];
        boolean[] ran = new boolean[3];
        runTask(1, s -> {
            RescuerSystem sys = RescuerSystem.builder().platform(s).totalPages(1024)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
            long createdAtBoot = sys.workqueues().stats().workersCreated();
            s.faults().workerStartFailsAlways(); // after boot: the pool keeps the worker it booted with
            WorkQueue wq = sys.workqueues().create("reclaim", 0, WqFlag.MEM_RECLAIM);
            for (int i = 0; i < ran.length; i++) {
                int n = i;
                wq.queueOn(0, new Work("item" + i, () -> ran[n] = true));
            }
            wq.flush();
            WorkqueueStats st = sys.workqueues().stats();
            stats[0] = st.workersCreated() - createdAtBoot;
            stats[1] = st.workerCreationFailures();
            stats[2] = st.rescued();
            wq.destroy();
            sys.close();
        });
        assertTrue(ran[0] && ran[1] && ran[2], "every item ran");
        assertEquals(0, stats[0], "no worker was created after the fault was set");
        assertTrue(stats[1] >= 1, "the manager tried and failed: " + stats[1]);
        assertTrue(stats[2] >= 1, "the rescuer ran the items: " + stats[2]);
    }

    /**
     * {@code workerStartFailsAlways} is the budget 0 of {@code workerStartFailsAfter} but draws
     * nothing from the fault stream, which {@code workerStartFailsAfter(0, 0)} does: the two stack
     * forms ({@code fail}, {@code fail after 0}) fail the same starts and leave the rest of the
     * stream (here a timer's latency) where each always left it.
     */
    @Test
    void failingEveryWorkerStartIsTheBudgetZeroWithoutItsDraw() {
        List<String> always = new ArrayList<>();
        List<String> afterZero = new ArrayList<>();
        Duration[] latency = new Duration[3];
        runTask(5, s -> {
            s.faults().timerLatency(Duration.ofSeconds(1)).workerStartFailsAlways();
            always.addAll(tryWorkerStarts(s, 3));
            latency[0] = s.faults().timerLatency();
        });
        runTask(5, s -> {
            s.faults().timerLatency(Duration.ofSeconds(1));
            assertEquals(0, s.faults().workerStartFailsAfter(0, 0));
            afterZero.addAll(tryWorkerStarts(s, 3));
            latency[1] = s.faults().timerLatency();
        });
        runTask(5, s -> latency[2] = s.faults().timerLatency(Duration.ofSeconds(1)).timerLatency());
        assertEquals(afterZero, always, "the same starts fail, with the same message");
        assertTrue(always.get(0).contains("every worker creation fails"), always.get(0));
        assertNull(always.get(3), "a start that is no pool worker's is not failed");
        assertEquals(latency[2], latency[0], "fail draws nothing: the stream is where a run without the fault has it");
        assertNotEquals(latency[2], latency[1], "fail after 0 draws its budget, as it always did");
    }

    /**
     * {@code workers} starts of pool workers, then two that are not (a rescuer's, a task's), in that
     * order, as the fault decision sees them; each entry is the failure message or null.
     */
    private static List<String> tryWorkerStarts(SimPlatform sim, int workers) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            out.add(sim.faults().threadStartFault(true));
        }
        out.add(sim.faults().threadStartFault(false));
        out.add(sim.faults().threadStartFault(false));
        return out;
    }

    @Test
    void workerStartsCanFailAfterABudgetDrawnFromTheRangeWhileRescuersAndTasksStart() {
        List<String> exact = new ArrayList<>();
        int[] drawn = new int[1];
        runTask(3, s -> {
            drawn[0] = s.faults().workerStartFailsAfter(2, 2);
            exact.addAll(tryWorkerStarts(s, 4));
        });
        assertEquals(2, drawn[0]);
        assertNull(exact.get(0));
        assertNull(exact.get(1));
        assertNotNull(exact.get(2), "the third worker start must fail: " + exact);
        assertTrue(exact.get(2).contains("only 2 worker creations allowed"), exact.get(2));
        assertNotNull(exact.get(3));
        assertNull(exact.get(4), "a start that is no pool worker's is not counted");
        assertNull(exact.get(5), "nor is a second one");

        Set<Integer> budgets = new HashSet<>();
        for (long seed = 1; seed <= 40; seed++) {
            int[] n = new int[1];
            List<String> r = new ArrayList<>();
            runTask(seed, s -> {
                n[0] = s.faults().workerStartFailsAfter(0, 3);
                r.addAll(tryWorkerStarts(s, 5));
            });
            assertTrue(n[0] >= 0 && n[0] <= 3, "drawn " + n[0]);
            assertEquals(n[0], r.subList(0, 5).stream().filter(m -> m == null).count(), "seed " + seed + ": " + r);
            int[] again = new int[1];
            runTask(seed, s -> again[0] = s.faults().workerStartFailsAfter(0, 3));
            assertEquals(n[0], again[0], "the budget replays with the seed");
            budgets.add(n[0]);
        }
        assertEquals(Set.of(0, 1, 2, 3), budgets, "every budget of the range is drawn");
    }

    @Test
    void threadStartsCanFailAfterSomeSucceed() {
        List<String> results = new ArrayList<>();
        runTask(2, s -> {
            s.faults().threadStartFailsAfter(2);
            results.addAll(tryStarts(s, 4));
        });
        assertNull(results.get(0));
        assertNull(results.get(1));
        assertNotNull(results.get(2), "the third start must fail: " + results);
        assertTrue(results.get(2).contains("injected"), results.get(2));
        assertTrue(results.get(2).contains("2"), results.get(2));
        assertNotNull(results.get(3));

        List<String> none = new ArrayList<>();
        runTask(2, s -> {
            s.faults().threadStartFailsAfter(0);
            none.addAll(tryStarts(s, 2));
        });
        assertNotNull(none.get(0));
        assertNotNull(none.get(1));
    }

    private List<Boolean> startFailures(long seed, double p, int n) {
        List<Boolean> failed = new ArrayList<>();
        runTask(seed, s -> {
            s.faults().threadStartFailsWithProbability(p);
            for (String m : tryStarts(s, n)) {
                failed.add(m != null);
            }
        });
        return failed;
    }

    @Test
    void probabilisticThreadStartFailuresReplayWithTheSeed() {
        Set<List<Boolean>> patterns = new HashSet<>();
        for (long seed = 0; seed < 6; seed++) {
            List<Boolean> first = startFailures(seed, 0.5, 40);
            List<Boolean> second = startFailures(seed, 0.5, 40);
            assertEquals(first, second, "seed " + seed);
            assertTrue(first.contains(true) && first.contains(false), "seed " + seed + ": " + first);
            patterns.add(first);
        }
        assertTrue(patterns.size() > 1, "every seed failed the same starts");
        assertFalse(startFailures(3, 0.0, 20).contains(true));
        assertFalse(startFailures(3, 1.0, 20).contains(false));
    }

    @Test
    void threadStartsFailBelowAFreePagesMark() {
        List<String> results = new ArrayList<>();
        runTask(4, s -> {
            PageAllocator pages = PageAllocator.builder(s).name("test").totalPages(64).watermarks(1, 2, 3).build();
            s.faults().threadStartFailsBelowFreePages(pages, 40);
            results.addAll(tryStarts(s, 1));                   // 64 free
            Pages held = pages.allocate(24, Gfp.KERNEL);       // 40 free: not below
            results.addAll(tryStarts(s, 1));
            Pages more = pages.allocate(1, Gfp.KERNEL);        // 39 free: below
            results.addAll(tryStarts(s, 1));
            more.close();
            held.close();
            results.addAll(tryStarts(s, 1));                   // 64 free again
        });
        assertNull(results.get(0));
        assertNull(results.get(1), "40 free pages are not below the mark 40");
        assertNotNull(results.get(2), "39 free pages are below the mark 40");
        assertTrue(results.get(2).contains("injected") && results.get(2).contains("39") && results.get(2).contains("40"), results.get(2));
        assertNull(results.get(3));
    }

    @Test
    void allocationFaultsFailAllocationsThatMayFailButNotNofail() {
        List<Object> results = new ArrayList<>();
        runTask(5, s -> {
            PageAllocator pages = PageAllocator.builder(s).name("test").totalPages(64).watermarks(1, 2, 3).build();
            s.faults().allocationFailsWithProbability(pages, 1.0);
            try {
                pages.allocate(1, Gfp.KERNEL);
                results.add("allocated");
            } catch (PageAllocationException e) {
                results.add(e.getMessage());
            }
            results.add(pages.tryAllocate(2, Gfp.KERNEL) == null);
            Pages nofail = pages.allocate(3, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL));
            results.add(nofail.count());
            results.add(pages.freePages());
            nofail.close();
            s.faults().allocationFailsWithProbability(pages, 0);
            try (Pages p = pages.allocate(1, Gfp.KERNEL)) {
                results.add(p.count());
            }
        });
        assertTrue(results.get(0) instanceof String && ((String) results.get(0)).contains("injected failure"), String.valueOf(results.get(0)));
        assertEquals(true, results.get(1), "tryAllocate returns null on an injected failure");
        assertEquals(3, results.get(2), "a NOFAIL allocation is never failed by injection");
        assertEquals(61L, results.get(3), "failed allocations take no pages");
        assertEquals(1, results.get(4), "probability 0 removes the fault");
    }

    private List<Boolean> allocationFailures(long seed) {
        List<Boolean> failed = new ArrayList<>();
        runTask(seed, s -> {
            PageAllocator pages = PageAllocator.builder(s).name("test").totalPages(64).watermarks(1, 2, 3).build();
            s.faults().allocationFailsWithProbability(pages, 0.5);
            for (int i = 0; i < 40; i++) {
                Pages p = pages.tryAllocate(1, Gfp.KERNEL);
                failed.add(p == null);
                if (p != null) {
                    p.close();
                }
            }
        });
        return failed;
    }

    @Test
    void probabilisticAllocationFailuresReplayWithTheSeed() {
        Set<List<Boolean>> patterns = new HashSet<>();
        for (long seed = 10; seed < 14; seed++) {
            List<Boolean> first = allocationFailures(seed);
            assertEquals(first, allocationFailures(seed), "seed " + seed);
            assertTrue(first.contains(true) && first.contains(false), "seed " + seed + ": " + first);
            patterns.add(first);
        }
        assertTrue(patterns.size() > 1, "every seed failed the same allocations");
    }

    /** Arms 30 timers of 2 ms at time 0 and returns when each fired. */
    private List<Long> timerFiringTimes(long seed, Duration maxLatency) {
        List<Long> at = new ArrayList<>();
        runTask(seed, s -> {
            if (maxLatency != null) {
                s.faults().timerLatency(maxLatency);
            }
            WaitQueue wq = new WaitQueue(s, "fired");
            long[] when = new long[30];
            int[] fired = {0};
            for (int i = 0; i < 30; i++) {
                int index = i;
                PlatformTimer t = s.newTimer("t" + i, () -> {
                    when[index] = s.nanoTime();
                    fired[0]++;
                    if (fired[0] == 30) {
                        wq.wakeUpAll(); // no task runs between the firings, so no segment delays one
                    }
                });
                t.arm(Duration.ofMillis(2));
            }
            wq.waitEvent(() -> fired[0] == 30);
            for (long w : when) {
                at.add(w);
            }
        });
        return at;
    }

    @Test
    void timerLatencyDelaysTimersByAtMostTheMaximumAndReplaysWithTheSeed() {
        long max = Duration.ofMillis(1).toNanos();
        Set<List<Long>> patterns = new HashSet<>();
        for (long seed = 0; seed < 4; seed++) {
            List<Long> at = timerFiringTimes(seed, Duration.ofMillis(1));
            assertEquals(at, timerFiringTimes(seed, Duration.ofMillis(1)), "seed " + seed);
            for (long t : at) {
                assertTrue(t >= 2_000_000 && t <= 2_000_000 + max, "fired at " + t + " ns");
            }
            assertTrue(at.stream().distinct().count() > 10, "latencies look constant: " + at);
            assertTrue(at.stream().anyMatch(t -> t > 2_000_000), "no timer was late: " + at);
            patterns.add(at);
        }
        assertTrue(patterns.size() > 1);
        assertTrue(timerFiringTimes(0, null).stream().allMatch(t -> t == 2_000_000), "without latency, timers are exact");
        assertTrue(timerFiringTimes(0, Duration.ZERO).stream().allMatch(t -> t == 2_000_000), "zero latency is no latency");
    }

    @Test
    void badArgumentsAreRejected() {
        SimFaults f = new SimPlatform(1, new RandomWalk(1), pool, 10).faults();
        PageAllocator pages = PageAllocator.builder(new SimPlatform(2, new RandomWalk(2), pool, 10)).totalPages(16).build();
        assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsAfter(-1));
        assertThrows(IllegalArgumentException.class, () -> f.workerStartFailsAfter(-1, 2));
        IllegalArgumentException backwards = assertThrows(IllegalArgumentException.class, () -> f.workerStartFailsAfter(3, 2));
        assertTrue(backwards.getMessage().contains("3..2"), backwards.getMessage());
        assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsWithProbability(-0.01));
        assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsWithProbability(1.01));
        assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsWithProbability(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsBelowFreePages(pages, -1));
        assertThrows(IllegalArgumentException.class, () -> f.allocationFailsWithProbability(pages, 2));
        assertThrows(IllegalArgumentException.class, () -> f.allocationFailsWithProbability(pages, -1));
        assertThrows(IllegalArgumentException.class, () -> f.timerLatency(Duration.ofNanos(-1)));
        assertThrows(IllegalArgumentException.class, () -> f.timerLatency((Duration) null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.threadStartFailsWithProbability(3));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
        // Valid bounds are accepted.
        f.threadStartFailsAfter(0).threadStartFailsWithProbability(0).threadStartFailsWithProbability(1)
                .timerLatency(Duration.ZERO).allocationFailsWithProbability(pages, 1);
    }
}
