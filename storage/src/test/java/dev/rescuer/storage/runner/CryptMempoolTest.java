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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seed case 5 on the storage model: {@code stacks/crypt-mempool.yaml}. CI budgets are small; the
 * long runs are recorded in docs/STORAGE.md.
 */
class CryptMempoolTest {

    static final Path STACK = Path.of("..", "stacks", "crypt-mempool.yaml");

    private final StackScenario s = StackScenario.load(STACK);
    private final Explorer explorer = new Explorer(List.of(s));

    @Test
    void twoElementsWithoutTheLockHangWithTwoWorkersEachHoldingPartOfTheReserve() {
        ExploreResult r = explorer.explore(s, s.variant("crypt-two-elements"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        String text = String.join("\n", r.firstFinding().report().cycle());
        // each kcryptd worker waits on the page pool, whose missing element the other holds
        assertTrue(text.contains("waits on waitqueue mempool crypt page_pool cryptroot [mempool], released by mempool crypt page_pool cryptroot"), text);
        assertTrue(text.matches("(?s).*kworker/u4:\\d+:\\d+ waits on .*allocated, not yet freed \\(or handed on\\), by kworker/u4:\\d+.*"), text);
        RunResult again = explorer.replay(s, s.variant("crypt-two-elements"), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
    }

    @Test
    void theSerialisedAllocationCompletesUnderPctAndRandomWalk() {
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            ExploreResult r = explorer.explore(s, s.variant("crypt"), ExploreOptions.defaults().withStrategy(k).withSchedules(100));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().reason() + "\n" + r.firstFinding().report());
        }
    }

    @Test
    void theVariantsDifferOnlyInTheAllocationPattern() {
        var a = s.file().stack("crypt");
        var b = s.file().stack("crypt-two-elements");
        assertEquals(a.spec().devices(), b.spec().devices());
        assertEquals(a.spec().workload(), b.spec().workload());
        assertEquals(a.spec().system(), b.spec().system());
        assertEquals("serialised", a.moduleParams().get("dm_crypt", "alloc_buffer"));
        assertEquals("unserialised", b.moduleParams().get("dm_crypt", "alloc_buffer"));
    }
}
