package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.runner.StackScenario;
import dev.rescuer.storage.stack.ThinWorkloadKind;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S2's seed cases and Chinner's claim on the stack file {@code stacks/s2-loop-bufio.yaml}: each
 * variant's verdict and the cycle behind each hang, at CI scale (100 schedules per strategy for the
 * completing variants); the long runs (20 PCT seeds per hang, 5,000 schedules per strategy) are
 * {@link S2Measurements}, and their numbers are in docs/STORAGE.md.
 */
class S2LoopBufioTest {

    static final Path STACK = Path.of("..", "stacks", "s2-loop-bufio.yaml");

    private final StackScenario s = StackScenario.load(STACK);
    private final Explorer explorer = new Explorer(List.of(s));

    private String firstHangCycle(String variant) {
        ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result(), () -> variant + ": " + (r.firstFinding() == null ? "no finding" : r.firstFinding().reason()));
        return String.join("\n", r.firstFinding().report().cycle());
    }

    @Test
    void theFileHasExactlyTheVariantsOtherToolsNameWithTheirVerdicts() {
        assertEquals(List.of("nofs-pre2014-shrinker:HANGS", "nofs-2014-shrinker:COMPLETES", "chinner-noio-pre2014-shrinker:HANGS",
                        "chinner-noio-2014-shrinker:COMPLETES", "kswapd-loop-gfp-kernel:HANGS", "kswapd-loop-noio:COMPLETES",
                        "kswapd-loop-trylock:HANGS", "kswapd-shrinker-workqueue:COMPLETES"),
                s.variants().stream().map(v -> v.name() + ":" + v.expected()).toList());
    }

    @Test
    void nofsAllocationInThePre2014ShrinkerWaitsForTheLoopWorkerBehindTheAgf() {
        String cycle = firstHangCycle("nofs-pre2014-shrinker");
        assertTrue(cycle.contains("loop0") && cycle.contains("waits on mutex sda/ag0/agf [agf], held by thin"), cycle);
        assertTrue(cycle.contains("thin") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void chinnerNoioOnTheLoopWorkerDoesNotPreventCaseA() {
        // Patocka's point: the NOFS allocation is the filesystem user's, not the loop worker's.
        String cycle = firstHangCycle("chinner-noio-pre2014-shrinker");
        assertTrue(cycle.contains("loop0") && cycle.contains("waits on mutex sda/ag0/agf [agf], held by thin"), cycle);
        assertTrue(cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void kswapdHoldingCLockWaitsForTheLoopWorker() {
        String cycle = firstHangCycle("kswapd-loop-gfp-kernel");
        assertTrue(cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
    }

    @Test
    void junxiaoBisCycleIsAmongTheHangs() {
        boolean seen = false;
        for (long seed = 1; seed <= 20 && !seen; seed++) {
            ExploreResult r = explorer.explore(s, s.variant("kswapd-loop-gfp-kernel"), ExploreOptions.defaults().withSeed(seed).withSchedules(100));
            assertEquals("hang", r.result(), "seed " + seed);
            String cycle = String.join("\n", r.firstFinding().report().cycle());
            seen = cycle.contains("waits on mutex thin-metadata/c->lock [&c->lock], held by kswapd/s2-loop-bufio");
        }
        assertTrue(seen, "no seed of 20 found kswapd holding c->lock while the loop worker waits for it");
    }

    @Test
    void theTrylockFixLeavesTheLoopWorkerWaitingForItsOwnWrite() {
        String cycle = firstHangCycle("kswapd-loop-trylock");
        assertTrue(cycle.contains("loop0") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], released by loop0"), cycle);
        assertFalse(cycle.contains("waits on mutex thin-metadata/c->lock"), "a trylock never sleeps on c->lock:\n" + cycle);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nofs-2014-shrinker", "chinner-noio-2014-shrinker", "kswapd-loop-noio", "kswapd-shrinker-workqueue"})
    void theFixesComplete(String variant) {
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            Explorations.assertCompletes(s, variant, k, 100);
        }
    }

    @Test
    void theNoioFixIsTestedOnTheDangerousInterleaving() {
        // Not vacuous: in some schedules reclaim does write a dirty buffer and wait for it with c->lock
        // held (kswapd, or a kernel thread's GFP_KERNEL reclaim; never the NOIO worker), and the NOIO
        // loop worker serves that write.
        StackScenario fresh = StackScenario.load(STACK);
        Explorations.assertCompletes(fresh, "kswapd-loop-noio", StrategyKind.PCT, 50);
        List<Long> cleaned = fresh.samples("kswapd-loop-noio", "thin " + ThinWorkloadKind.CLEANED_BY_RECLAIM);
        assertEquals(50, cleaned.size(), "one sample per run");
        assertTrue(cleaned.stream().anyMatch(n -> n > 0), "no schedule had reclaim clean a buffer under c->lock");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nofs-pre2014-shrinker", "kswapd-loop-gfp-kernel"})
    void aHangReplaysFromItsSeed(String variant) {
        Variant v = s.variant(variant);
        ExploreResult r = explorer.explore(s, v, ExploreOptions.defaults().withSchedules(100));
        RunResult again = explorer.replay(s, v, r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
        assertEquals(r.firstFinding().report().cycle(), again.report().cycle());
    }

    @Test
    void theShrinkerOrderDecidesWhetherCleanPageCacheSatisfiesReclaimFirst() {
        // With 48 clean page-cache pages (more than reclaim's SWAP_CLUSTER_MAX target of one pass), the
        // walk's order decides: page cache first (registered at the first mount) frees enough and the
        // NOFS allocation never reaches the pre-2014 shrinker; dm-bufio first (after-devices) waits.
        String big = readStack().replace("{name: data, blocks: 16}", "{name: data, blocks: 48}");
        StackScenario afterDevices = parse(big);
        ExploreResult r = new Explorer(List.of(afterDevices)).explore(afterDevices, afterDevices.variant("nofs-pre2014-shrinker"),
                ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        StackScenario firstMount = parse(big.replace("page_cache_shrinker: after-devices", "page_cache_shrinker: first-mount"));
        Explorations.assertCompletes(firstMount, "nofs-pre2014-shrinker", StrategyKind.PCT, 50);
    }

    @Test
    void systemKswapdDecidesWhetherTheMachineHasBackgroundReclaim() {
        List<Boolean> kswapd = new java.util.concurrent.CopyOnWriteArrayList<>();
        StackScenario watched = new StackScenario(s.file(), dm -> kswapd.add(dm.system().pages().kswapdTask() != null));
        Explorations.assertCompletes(watched, "nofs-2014-shrinker", StrategyKind.PCT, 1);
        Explorations.assertCompletes(watched, "kswapd-loop-noio", StrategyKind.PCT, 1);
        assertEquals(List.of(false, true), kswapd);
    }

    @Test
    void aLoopWorkqueueWorkerIsTheReleaserOfTheBufioWrite() {
        StackScenario wq = parse(readStack().replace("worker: kthread", "worker: workqueue"));
        ExploreResult r = new Explorer(List.of(wq)).explore(wq, wq.variant("nofs-pre2014-shrinker"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        String cycle = String.join("\n", r.firstFinding().report().cycle());
        assertTrue(cycle.contains("thin:") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], "
                + "released by work loop0 loop_workqueue_workfn on workqueue loop0"), cycle);
    }

    @Test
    void theLoopWorkqueueHasNoRescuerSoNoioOnItsWorkerDoesNotSaveCaseB() {
        // 5.13's loop workqueue (87579e9b7d8d) is WQ_UNBOUND | WQ_FREEZABLE without WQ_MEM_RECLAIM: its
        // work waits for a new worker, whose creation allocates in kthreadd, whose reclaim writes a
        // dirty metadata buffer to loop0 and waits for it under c->lock.
        StackScenario wq = parse(readStack().replace("worker: kthread", "worker: workqueue"));
        ExploreResult r = new Explorer(List.of(wq)).explore(wq, wq.variant("kswapd-loop-noio"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        String cycle = String.join("\n", r.firstFinding().report().cycle());
        assertTrue(cycle.contains("kthreadd") && cycle.contains("waits on waitqueue thin-metadata/buffer_write [dm_buffer B_WRITING], "
                + "released by work loop0 loop_workqueue_workfn on workqueue loop0, pending: no idle worker"), cycle);
    }

    private static StackScenario parse(String text) {
        return new StackScenario(StackFile.parse("s2.yaml", "s2", text, Kinds.builtIn()));
    }

    private static String readStack() {
        try {
            return java.nio.file.Files.readString(STACK);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
