package dev.rescuer.sim.explore;

import dev.rescuer.sim.CarrierPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The workqueue's guarantees ({@link WorkqueueSemantics}) hold over many schedules of random
 * programs, under the random walk and PCT, on a normal, an ordered, a {@code max_active}-bound and a
 * {@code MEM_RECLAIM} queue. A failure names the seed; to replay it, run this test with
 * {@code -Drescuer.wq.seed=0x...}, which runs that one seed (its variant and strategy are in it)
 * and prints its report; {@code -Drescuer.wq.schedules=N} runs {@code N} schedules per case instead of 150.
 */
class WorkqueueSemanticsExplorationTest {

    /** Schedules per variant and strategy; {@code -Drescuer.wq.schedules=N} explores deeper. */
    private static final int SCHEDULES = Integer.getInteger("rescuer.wq.schedules", 150);
    private static final WorkqueueSemantics SCENARIO = new WorkqueueSemantics();
    private static final Explorer EXPLORER = new Explorer(List.of(SCENARIO));

    static Stream<Arguments> variantsAndStrategies() {
        List<Arguments> out = new ArrayList<>();
        for (Variant v : SCENARIO.variants()) {
            for (StrategyKind k : StrategyKind.values()) {
                out.add(Arguments.of(v.name(), k));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} --strategy {1}")
    @MethodSource("variantsAndStrategies")
    void everyGuaranteeHoldsOverManySchedules(String variantName, StrategyKind kind) {
        Variant variant = SCENARIO.variant(variantName);
        String replaying = System.getProperty("rescuer.wq.seed");
        if (replaying != null) {
            RunSeed seed = RunSeed.parse(replaying);
            if (seed.fingerprint() == RunSeed.fingerprint(SCENARIO.name(), variantName) && seed.strategy() == kind) {
                RunResult r = EXPLORER.replay(SCENARIO, variant, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                System.out.println(describe(r));
                assertEquals(Outcome.COMPLETED, r.outcome(), describe(r));
            }
            return;
        }
        SCENARIO.resetCoverage();
        ExploreResult r = EXPLORER.explore(SCENARIO, variant, ExploreOptions.defaults().withStrategy(kind)
                .withSchedules(SCHEDULES).withSeed(7));
        WorkqueueSemantics.Coverage c = SCENARIO.resetCoverage();
        if (r.firstFinding() != null) {
            fail(describe(r.firstFinding()));
        }
        assertEquals(SCHEDULES, r.schedulesRun());
        long mean = r.totalSteps() / r.runsExecuted();
        assertTrue(mean * 3 >= SCENARIO.estimatedSteps() && SCENARIO.estimatedSteps() * 3 >= mean,
                "estimatedSteps " + SCENARIO.estimatedSteps() + " but a run takes " + mean + " steps on average");
        // The schedules reached what the checks are about.
        assertTrue(c.runs > SCHEDULES && c.cancelsReported > 0 && c.waitingFlushes > 0, c.toString());
        if (variant == WorkqueueSemantics.MEM_RECLAIM) {
            assertTrue(c.rescued > 0, "the rescuer never ran an item: " + c);
        }
        if (variant == WorkqueueSemantics.MAX_ACTIVE) {
            assertEquals(2, c.mostAtOnce, "max_active 2 was never reached: " + c);
        }
        if (variant == WorkqueueSemantics.NORMAL) {
            assertTrue(c.mostAtOnce >= 2, "no two items ever ran at once: " + c);
        }
    }

    @Test
    void aSeedReplaysItsProgramAndSchedule() {
        java.util.Set<Long> hashes = new java.util.HashSet<>();
        try (CarrierPool pool = new CarrierPool("wq-semantics-replay")) {
            for (Variant v : SCENARIO.variants()) {
                for (int i = 0; i < 5; i++) {
                    RunSeed seed = RunSeed.forSchedule(SCENARIO, v, StrategyKind.RANDOM, ExploreOptions.DEFAULT_DEPTH, 11, i);
                    RunResult first = EXPLORER.run(SCENARIO, v, seed, i, pool, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                    RunResult again = EXPLORER.replay(SCENARIO, v, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                    assertEquals(first.traceHash(), again.traceHash(), v.name() + " seed " + seed);
                    assertEquals(first.steps(), again.steps(), v.name() + " seed " + seed);
                    assertEquals(first.virtualNanos(), again.virtualNanos(), v.name() + " seed " + seed);
                    hashes.add(first.traceHash());
                }
            }
        }
        assertTrue(hashes.size() >= 15, "only " + hashes.size() + " distinct runs of 20 seeds: the programs do not vary");
    }

    private static String describe(RunResult f) {
        return "schedule " + f.schedule() + " of " + SCENARIO.name() + ": " + f.outcome() + ", " + f.reason()
                + "\nreplay: mvn -B -q -pl sim -am verify -Dtest=WorkqueueSemanticsExplorationTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Drescuer.wq.seed=" + f.seed()
                + (f.report() == null ? "" : "\n" + f.report().toText())
                + "\nlast events:\n  " + f.traceTail().stream().map(dev.rescuer.sim.TraceEvent::text).collect(java.util.stream.Collectors.joining("\n  "));
    }
}
