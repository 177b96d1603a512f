package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S1 on the storage model: {@code stacks/s1-cow-throttle.yaml}. The CI budgets are small; the long
 * runs (5,000 PCT and 5,000 random schedules of {@code wait-unlocked}, 20 seeds of
 * {@code semaphore-under-lock}) are recorded in docs/STORAGE.md.
 */
class S1CowThrottleTest {

    static final Path S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml");

    private final StackScenario s1 = StackScenario.load(S1);
    private final Explorer explorer = new Explorer(List.of(s1));

    @Test
    void semaphoreUnderLockHangsWithNikossCycle() {
        ExploreResult r = explorer.explore(s1, s1.variant("semaphore-under-lock"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        List<String> cycle = r.firstFinding().report().cycle();
        String text = String.join("\n", cycle);
        // kcopyd's worker waits on _origins_lock behind the queued writer (lvcreate), which waits on the
        // readers, one of which waits on cow_count, which only kcopyd's work releases: learned from the
        // copies that upped it earlier in the run, not declared.
        assertEquals(3, cycle.size(), text);
        assertTrue(text.contains("waits on rwsem _origins_lock [&_origins_lock], behind queued writer lvcreate"), text);
        assertTrue(text.contains("lvcreate") && text.contains("waits on rwsem _origins_lock [&_origins_lock], held by drbd_r/"), text);
        assertTrue(text.contains("waits on semaphore vg-snap0/cow_count [&s->cow_count], released by whoever signalled it before:"
                + " work kcopyd do_work vg-snap0; now work kcopyd do_work vg-snap0 on workqueue kcopyd/vg-snap0, running in kworker/"), text);
    }

    @Test
    void theHangReplaysFromItsSeed() {
        ExploreResult r = explorer.explore(s1, s1.variant("semaphore-under-lock"), ExploreOptions.defaults().withSchedules(100));
        RunResult again = explorer.replay(s1, s1.variant("semaphore-under-lock"), r.firstFinding().seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
        assertEquals(r.firstFinding().report().cycle(), again.report().cycle());
    }

    @Test
    void waitUnlockedCompletesUnderPctAndRandomWalk() {
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            ExploreResult r = explorer.explore(s1, s1.variant("wait-unlocked"),
                    ExploreOptions.defaults().withStrategy(k).withSchedules(100));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().reason() + "\n" + r.firstFinding().report());
            assertEquals(100, r.schedulesRun());
        }
    }

    @Test
    void theVariantsDifferOnlyInTheThrottle() {
        var a = s1.file().stack("wait-unlocked");
        var b = s1.file().stack("semaphore-under-lock");
        assertEquals(a.spec().devices(), b.spec().devices());
        assertEquals(a.spec().workload(), b.spec().workload());
        assertEquals(a.spec().system(), b.spec().system());
        assertEquals("wait-unlocked", a.moduleParams().get("dm_snapshot", "cow_throttle"));
        assertEquals("semaphore", b.moduleParams().get("dm_snapshot", "cow_throttle"));
        assertEquals(a.moduleParams().get("dm_snapshot", "snapshot_cow_threshold"),
                b.moduleParams().get("dm_snapshot", "snapshot_cow_threshold"));
        assertNotNull(a.spec().explore());
    }
}
