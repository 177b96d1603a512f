package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.pagecache.Explorations;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S2's seed cases on the model ({@link S2LoopBufio}). CI budgets are small; the long runs (5,000
 * schedules per strategy of each completing variant, 20 PCT seeds of each hanging one) are
 * {@link S2Measurements} and their numbers are in docs/STORAGE.md.
 */
class S2LoopBufioTest {

    static {
        java.util.logging.Logger.getLogger("dev.rescuer").setLevel(java.util.logging.Level.OFF);
    }

    private final S2LoopBufio s2 = new S2LoopBufio();
    private final Explorer explorer = new Explorer(List.of(s2));

    private String firstHangCycle(String variant) {
        ExploreResult r = explorer.explore(s2, s2.variant(variant), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result(), () -> variant + ": " + (r.firstFinding() == null ? "no finding" : r.firstFinding().reason()));
        return String.join("\n", r.firstFinding().report().cycle());
    }

    @Test
    void nofsAllocationInThePre2014ShrinkerWaitsForTheLoopWorkerBehindTheInodeLock() {
        String cycle = firstHangCycle("nofs-pre2014-shrinker");
        assertTrue(cycle.contains("loop0") && cycle.contains("waits on mutex sda:image/i_rwsem [i_rwsem], held by thin"), cycle);
        assertTrue(cycle.contains("thin") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void chinnerNoioOnTheLoopWorkerDoesNotPreventCaseA() {
        // Patocka's point: the NOFS allocation is the filesystem user's, not the loop worker's; the
        // worker's NOIO scope changes none of the two edges.
        String cycle = firstHangCycle("chinner-noio-pre2014-shrinker");
        assertTrue(cycle.contains("waits on mutex sda:image/i_rwsem [i_rwsem], held by thin"), cycle);
        assertTrue(cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void kswapdHoldingCLockWaitsForTheLoopWorkerWhoseGfpKernelReclaimNeedsIt() {
        // Junxiao Bi's stacks, or the loop worker waiting in the shrinker for its own write: PCT finds
        // one of the two; both go through c->lock held across a wait for loop I/O.
        String cycle = firstHangCycle("kswapd-loop-gfp-kernel");
        assertTrue(cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void junxiaoBisCycleIsAmongTheHangs() {
        boolean seen = false;
        for (long seed = 1; seed <= 20 && !seen; seed++) {
            ExploreResult r = explorer.explore(s2, s2.variant("kswapd-loop-gfp-kernel"),
                    ExploreOptions.defaults().withSeed(seed).withSchedules(100));
            String cycle = String.join("\n", r.firstFinding().report().cycle());
            seen = cycle.contains("kswapd/ram") && cycle.contains("waits on mutex thin-metadata/c->lock [&c->lock], held by kswapd/ram");
        }
        assertTrue(seen, "no seed of 20 found kswapd holding c->lock while the loop worker waits for it");
    }

    @Test
    void theTrylockFixLeavesTheLoopWorkerWaitingForItsOwnWrite() {
        String cycle = firstHangCycle("kswapd-loop-trylock");
        assertTrue(cycle.contains("loop0") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
        assertTrue(!cycle.contains("waits on mutex thin-metadata/c->lock"), "a trylock never sleeps on c->lock:\n" + cycle);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nofs-2014-shrinker", "chinner-noio-2014-shrinker", "kswapd-loop-noio", "kswapd-shrinker-workqueue"})
    void theFixesComplete(String variant) {
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            Explorations.assertCompletes(s2, variant, k, 100);
        }
    }

    @Test
    void theNoioFixIsTestedOnTheDangerousInterleaving() {
        // Not vacuous: in some schedules reclaim does write a dirty buffer and wait for it with c->lock
        // held (kswapd, or a kernel thread's GFP_KERNEL reclaim; never the NOIO worker, and thin's own
        // allocations never reach reclaim), and the NOIO loop worker serves that write.
        List<S2LoopBufio.Stack> runs = new java.util.ArrayList<>();
        S2LoopBufio recording = new S2LoopBufio() {
            @Override
            public void setUp(dev.rescuer.sim.explore.ScenarioContext ctx, dev.rescuer.sim.explore.Variant v) {
                runs.add(build(ctx, SETTINGS.get(v.name())));
            }
        };
        Explorations.assertCompletes(recording, "kswapd-loop-noio", StrategyKind.PCT, 50);
        assertTrue(runs.stream().anyMatch(r -> r.bufio().cleanedByReclaim() > 0),
                "no schedule had reclaim clean a buffer under c->lock");
    }

    @Test
    void aHangReplaysFromItsSeed() {
        ExploreResult r = explorer.explore(s2, s2.variant("kswapd-loop-gfp-kernel"), ExploreOptions.defaults().withSchedules(100));
        RunResult again = explorer.replay(s2, s2.variant("kswapd-loop-gfp-kernel"), r.firstFinding().seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
        assertEquals(r.firstFinding().report().cycle(), again.report().cycle());
    }

    @Test
    void everyVariantsExpectationMatchesTheExplorer() {
        for (var v : s2.variants()) {
            ExploreResult r = explorer.explore(s2, v, ExploreOptions.defaults().withSchedules(100));
            String want = v.expected() == dev.rescuer.sim.explore.Variant.Expectation.HANGS ? "hang" : "ok";
            assertEquals(want, r.result(), v.name());
        }
    }
}
