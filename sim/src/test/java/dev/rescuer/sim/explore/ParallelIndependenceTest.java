package dev.rescuer.sim.explore;

import dev.rescuer.sim.scenarios.Scenarios;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An exploration's result does not depend on how many threads run it; only its speed does. */
class ParallelIndependenceTest {

    private static final Explorer EXPLORER = new Explorer(java.util.List.of(Scenarios.byName("reclaim-rescuer"), Abba.SCENARIO));

    /**
     * Abba.SCENARIO from base seed 3 at PCT depth 1 first hangs past schedule 0 (earlier schedules complete), so with two
     * threads some schedule past the first finding also runs and hangs, and the lowest must win.
     */
    @Test
    void firstFindingIsTheSameWithOneOrTwoThreads() {
        Scenario cow = Abba.SCENARIO;
        Variant bug = InlineScenario.ONLY;
        ExploreOptions options = ExploreOptions.defaults().withDepth(1).withSeed(3).withSchedules(20);
        ExploreResult one = EXPLORER.explore(cow, bug, options.withParallel(1));
        ExploreResult two = EXPLORER.explore(cow, bug, options.withParallel(2));

        assertEquals("hang", one.result());
        assertTrue(one.firstFinding().schedule() > 0,
                "the check needs a first finding past schedule 0; got " + one.firstFinding().schedule());
        assertEquals(one.firstFinding().schedule() + 1, one.runsExecuted(), "one thread stops at the first finding");
        assertSameResult(one, two);
    }

    @Test
    void firstFindingAtScheduleZeroIsTheSameWithOneOrTwoThreads() {
        Scenario reclaim = Scenarios.byName("reclaim-rescuer");
        Variant bug = reclaim.variant("shared-queue");
        ExploreOptions options = ExploreOptions.defaults().withStrategy(StrategyKind.RANDOM).withSchedules(10);
        assertSameResult(EXPLORER.explore(reclaim, bug, options.withParallel(1)),
                EXPLORER.explore(reclaim, bug, options.withParallel(2)));
    }

    @Test
    void aCompleteExplorationIsTheSameWithOneOrTwoThreads() {
        Scenario cow = Scenarios.byName("reclaim-rescuer");
        Variant fixed = cow.variant("mem-reclaim");
        for (StrategyKind kind : StrategyKind.values()) {
            ExploreOptions options = ExploreOptions.defaults().withStrategy(kind).withSchedules(40).withSeed(11);
            ExploreResult one = EXPLORER.explore(cow, fixed, options.withParallel(1));
            ExploreResult two = EXPLORER.explore(cow, fixed, options.withParallel(2));
            assertSameResult(one, two);
            assertEquals("ok", one.result());
            // Every schedule ran exactly once on either side, so the totals agree too.
            assertEquals(40, one.runsExecuted());
            assertEquals(40, two.runsExecuted());
            assertEquals(one.totalSteps(), two.totalSteps());
            assertEquals(one.totalChoices(), two.totalChoices());
        }
    }

    @Test
    void runningEveryScheduleCountsTheSameFindingsWithOneOrTwoThreads() {
        Scenario cow = Abba.SCENARIO;
        Variant bug = InlineScenario.ONLY;
        ExploreOptions options = ExploreOptions.defaults().withDepth(1).withSeed(3).withSchedules(8).runningAll();
        ExploreResult one = EXPLORER.explore(cow, bug, options.withParallel(1));
        ExploreResult two = EXPLORER.explore(cow, bug, options.withParallel(2));
        assertSameResult(one, two);
        assertEquals(8, one.schedulesRun());
        assertEquals(one.findings(), two.findings());
        assertEquals(one.totalSteps(), two.totalSteps());
        assertEquals(8, two.runsExecuted());
        assertTrue(one.findings() > 0 && one.findings() < 8, "findings " + one.findings());
    }

    private static void assertSameResult(ExploreResult one, ExploreResult two) {
        assertEquals(one.result(), two.result());
        assertEquals(one.schedulesRun(), two.schedulesRun());
        assertNotNull(one.firstRun());
        assertNotNull(two.firstRun());
        assertEquals(one.firstRun().seed(), two.firstRun().seed());
        assertEquals(one.firstRun().traceHash(), two.firstRun().traceHash(), "trace hash of the first run");
        assertEquals(one.firstRun().steps(), two.firstRun().steps());
        if (one.firstFinding() == null) {
            assertEquals(null, two.firstFinding());
            return;
        }
        assertNotNull(two.firstFinding(), "two threads found nothing");
        assertEquals(one.firstFinding().schedule(), two.firstFinding().schedule());
        assertEquals(one.firstFinding().seed(), two.firstFinding().seed());
        assertEquals(one.firstFinding().traceHash(), two.firstFinding().traceHash());
        assertEquals(one.firstFinding().report().toText(), two.firstFinding().report().toText());
        // The CLI's JSON agrees apart from the throughput and timing fields, the thread count it
        // echoes (and the count of hung schedules, which has its own test below).
        var a = new java.util.LinkedHashMap<>(one.toMap());
        var b = new java.util.LinkedHashMap<>(two.toMap());
        for (String timing : new String[] {"steps_per_second", "choices_per_second", "schedules_per_second", "elapsed_ms",
                "schedules_hung_or_failed", "parallel"}) {
            a.remove(timing);
            b.remove(timing);
        }
        assertEquals(a, b);
    }

    /**
     * The JSON's {@code schedules_hung_or_failed} sits next to {@code schedules_run}: it must count
     * among those schedules, and so not depend on {@code --parallel}. With two threads and a first
     * hang at schedule 0, the second thread has almost always started schedule 1 (which hangs too)
     * before the first finishes, so counting every executed run shows up here.
     */
    @Test
    void theJsonCountOfHungSchedulesIsAmongTheSchedulesRunWhateverTheThreads() {
        Scenario reclaim = Scenarios.byName("reclaim-rescuer");
        Variant bug = reclaim.variant("shared-queue");
        ExploreOptions options = ExploreOptions.defaults().withStrategy(StrategyKind.RANDOM).withSchedules(10);
        Scenario cow = Abba.SCENARIO;
        ExploreOptions later = ExploreOptions.defaults().withDepth(1).withSeed(3).withSchedules(20);
        for (ExploreResult[] pair : new ExploreResult[][] {
                {EXPLORER.explore(reclaim, bug, options.withParallel(1)), EXPLORER.explore(reclaim, bug, options.withParallel(2))},
                {EXPLORER.explore(cow, InlineScenario.ONLY, later.withParallel(1)),
                        EXPLORER.explore(cow, InlineScenario.ONLY, later.withParallel(2))}}) {
            for (ExploreResult r : pair) {
                long hung = ((Number) r.toMap().get("schedules_hung_or_failed")).longValue();
                assertTrue(hung >= 1 && hung <= r.schedulesRun(), r.scenario() + "/" + r.variant() + " parallel "
                        + r.options().parallel() + ": schedules_hung_or_failed " + hung + " but schedules_run " + r.schedulesRun());
            }
            assertEquals(pair[0].toMap().get("schedules_hung_or_failed"), pair[1].toMap().get("schedules_hung_or_failed"),
                    pair[0].scenario() + "/" + pair[0].variant() + ": schedules_hung_or_failed with 1 and 2 threads");
        }
    }
}
