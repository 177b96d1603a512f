package dev.rescuer.storage.writeback;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.pagecache.Explorations;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The end-to-end case: writeback on a MEM_RECLAIM bdi_wq completes under pressure; without it the explorer finds the hang. */
class WritebackUnderPressureTest {

    /** Schedules per strategy for the completing variant (300 each were run once while calibrating, all completed). */
    private static final int COMPLETING_BUDGET = 20;
    private static final WritebackUnderPressure SCENARIO = new WritebackUnderPressure();
    private static final Explorer EXPLORER = new Explorer(List.of(SCENARIO));

    @ParameterizedTest
    @EnumSource(StrategyKind.class)
    void memReclaimWritebackCompletesInEverySchedule(StrategyKind kind) {
        Explorations.assertCompletes(SCENARIO, "mem-reclaim", kind, COMPLETING_BUDGET);
    }

    @ParameterizedTest
    @EnumSource(StrategyKind.class)
    void withoutMemReclaimTheExplorerFindsTheWriterHungBehindWorkerCreation(StrategyKind kind) {
        Variant v = SCENARIO.variant("no-mem-reclaim");
        ExploreResult r = EXPLORER.explore(SCENARIO, v, ExploreOptions.defaults().withStrategy(kind));
        assertEquals("hang", r.result(), "no hang in " + r.schedulesRun() + " schedules");
        RunResult f = r.firstFinding();
        assertEquals(Outcome.HANG, f.outcome());
        HangReport report = f.report();
        String text = report.toText();
        assertTrue(text.contains("balance_dirty_pages"), "the writer is held by the dirty throttle:\n" + text);
        assertTrue(text.contains("wb_workfn vdb on workqueue writeback, pending: no idle worker; creating one is kworker"),
                "the writeback item waits for a worker that cannot be created:\n" + text);
        RunResult again = EXPLORER.replay(SCENARIO, v, f.seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome(), "the hang replays from its seed");
        assertEquals(f.traceHash(), again.traceHash(), "exactly: every decision and event");
        assertEquals(f.steps(), again.steps());
    }
}
