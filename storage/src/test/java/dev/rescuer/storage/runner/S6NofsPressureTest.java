package dev.rescuer.storage.runner;

import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S6 on the model: {@code stacks/s6-nofs-pressure.yaml} at CI scale (the measured table and its
 * command are in docs/STORAGE.md, "S6").
 */
class S6NofsPressureTest {

    static final Path STACK = Path.of("..", "stacks", "s6-nofs-pressure.yaml");
    private static final int RUNS = 6;

    private final StackScenario s = StackScenario.load(STACK);
    private final Explorer explorer = new Explorer(List.of(s));

    private List<RunResult> runs(Variant v) {
        List<RunResult> out = new ArrayList<>();
        try (CarrierPool pool = new CarrierPool("s6-test")) {
            for (int i = 0; i < RUNS; i++) {
                RunSeed seed = RunSeed.forSchedule(s, v, StrategyKind.PCT, ExploreOptions.defaults().depth(), ExploreOptions.defaults().seed(), i);
                RunResult r = explorer.run(s, v, seed, i, pool, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                assertEquals(Outcome.COMPLETED, r.outcome(), () -> v.name() + " schedule " + r.schedule() + ": " + r.reason());
                out.add(r);
            }
        }
        return out;
    }

    private static long swappedBy(RunResult r, String reclaimer) {
        return r.counter("swap swap0 pages out by " + reclaimer, -1);
    }

    @Test
    void everyVariantCompletesUnderPctAndRandomWalk() {
        for (Variant v : s.variants()) {
            for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                ExploreResult r = explorer.explore(s, v, ExploreOptions.defaults().withStrategy(k).withSchedules(10));
                assertEquals("ok", r.result(), () -> v.name() + " " + k + ": " + r.firstFinding().reason() + "\n" + r.firstFinding().report());
            }
        }
    }

    /** Chinner's cost: with the merge NOFS reclaim never swaps (nor reclaims as NOFS at all); without it, it does. */
    @Test
    void theMergeRemovesSwappingFromNofsReclaim() {
        long nofsSwapped = 0;
        for (RunResult r : runs(s.variant("nofs-swaps"))) {
            nofsSwapped += swappedBy(r, "direct/nofs");
            assertEquals(256, r.counter("pages_written journal", -1));
        }
        assertTrue(nofsSwapped > 0, "without the merge, NOFS direct reclaim swapped in some of " + RUNS + " schedules");
        for (RunResult r : runs(s.variant("merge-nofs-noio"))) {
            assertEquals(0, swappedBy(r, "direct/nofs"), () -> "schedule " + r.schedule() + ": " + r.counters());
            assertEquals(0, r.counter(StackScenario.RECLAIMED + "direct/nofs", -1), "no context is NOFS under the merge");
            assertTrue(r.counter(StackScenario.RECLAIMED + "direct/noio", -1) > 0, "the writer's reclaim became NOIO reclaim");
            assertTrue(swappedBy(r, "kswapd") > 0, "kswapd (GFP_KERNEL) still swaps");
            assertEquals(256, r.counter("pages_written journal", -1));
        }
    }

    /** Every page swapped is counted once, for the reclaimer whose pass wrote it; every swap-in is the process's. */
    @Test
    void swapCountersAddUp() {
        for (Variant v : s.variants()) {
            for (RunResult r : runs(v)) {
                long byReclaimer = 0;
                for (String who : List.of("kswapd", "direct/fs", "direct/nofs", "direct/noio")) {
                    byReclaimer += swappedBy(r, who);
                }
                assertEquals(r.counter("swap swap0 pages out", -1), byReclaimer, r.counters()::toString);
                assertEquals(r.counter("swap swap0 pages in", -1), r.counter("swapped_in app", -2), r.counters()::toString);
                assertTrue(r.counter("swap swap0 pages in", -1) <= r.counter("swap swap0 pages out", -1));
                long start = r.counter("writer_start_ns journal", -1);
                assertTrue(start >= 5_000_000, "the writer starts at start_ms 5: " + start);
                assertTrue(r.counter("writer_end_ns journal", -1) > start);
                assertTrue(r.counter("writer_end_ns journal", -1) <= r.virtualNanos());
            }
        }
    }

    @Test
    void aRunReplaysFromItsSeedWithTheSameCounters() {
        for (Variant v : s.variants()) {
            RunResult r = runs(v).get(RUNS - 1);
            RunResult again = explorer.replay(s, v, r.seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
            assertEquals(r.traceHash(), again.traceHash());
            assertEquals(r.counters(), again.counters());
            assertEquals(r.virtualNanos(), again.virtualNanos());
        }
    }

    @Test
    void theVariantsDifferOnlyInTheMerge() {
        var a = s.file().stack("nofs-swaps");
        var b = s.file().stack("merge-nofs-noio");
        assertEquals(a.spec().devices(), b.spec().devices());
        assertEquals(a.spec().workload(), b.spec().workload());
        assertEquals(false, a.mergeNofsNoio());
        assertEquals(true, b.mergeNofsNoio());
    }

    /** The measurement over this stack: no twins (both variants fix the merge), and the merge row swaps nothing from NOFS reclaim. */
    @Test
    void theMeasurementReadsTheCounters() {
        List<MergeMeasurement.Row> rows = MergeMeasurement.measure(STACK, 2);
        assertEquals(List.of("nofs-swaps", "merge-nofs-noio"), rows.stream().map(MergeMeasurement.Row::variant).toList());
        assertEquals(List.of(false, true), rows.stream().map(MergeMeasurement.Row::merge).toList());
        for (MergeMeasurement.Row r : rows) {
            assertEquals("completes (2)", r.verdict());
            assertTrue(r.totalReclaimedPerSecond() > 0);
            assertTrue(r.writerPagesPerSecond() > 0);
        }
        assertEquals(0.0, rows.get(1).pagesSwappedByNofs());
        assertEquals(0.0, rows.get(1).reclaimedPerSecond().get(dev.rescuer.core.mm.Reclaimer.DIRECT_NOFS));
        String table = MergeMeasurement.table(rows);
        assertTrue(table.contains("| s6-nofs-pressure | merge-nofs-noio | on | completes (2) |"), table);
    }
}
