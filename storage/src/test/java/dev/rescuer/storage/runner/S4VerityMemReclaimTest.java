package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S4a ({@code stacks/s4a-snapshot-on-verity.yaml}) and S4b ({@code stacks/s4b-verity-readers.yaml})
 * on the model: without {@code WQ_MEM_RECLAIM} verity's verification never runs under memory
 * pressure and the hang replays from its seed; with it every schedule completes. CI budgets are
 * small; the long runs are recorded in docs/STORAGE.md.
 */
class S4VerityMemReclaimTest {

    private static StackScenario load(String file) {
        return StackScenario.load(Path.of("..", "stacks", file));
    }

    @ParameterizedTest
    @CsvSource({"s4a-snapshot-on-verity.yaml, verity-no-mem-reclaim", "s4b-verity-readers.yaml, no-mem-reclaim"})
    void withoutMemReclaimTheVerificationNeverRunsAndTheHangReplays(String file, String variant) {
        StackScenario s = load(file);
        Explorer explorer = new Explorer(List.of(s));
        ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        String text = r.firstFinding().report().toText();
        assertTrue(text.contains("workqueue kverityd/vroot: flags=[HIGHPRI]"), text);
        assertTrue(text.contains("pending: verity_work vroot"), text);
        assertTrue(text.contains("blocked for more than 120 seconds on completion submit_bio_wait"), text);
        RunResult again = explorer.replay(s, s.variant(variant), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
    }

    @ParameterizedTest
    @CsvSource({"s4a-snapshot-on-verity.yaml, verity-mem-reclaim", "s4b-verity-readers.yaml, mem-reclaim"})
    void withMemReclaimEveryScheduleCompletes(String file, String variant) {
        StackScenario s = load(file);
        Explorer explorer = new Explorer(List.of(s));
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withStrategy(k).withSchedules(10));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().reason() + "\n" + r.firstFinding().report());
        }
    }

    @ParameterizedTest
    @CsvSource({"s4a-snapshot-on-verity.yaml, verity-mem-reclaim, verity-no-mem-reclaim", "s4b-verity-readers.yaml, mem-reclaim, no-mem-reclaim"})
    void theVariantsDifferOnlyInVeritysQueueFlags(String file, String fixed, String broken) {
        StackScenario s = load(file);
        var a = s.file().stack(fixed).spec();
        var b = s.file().stack(broken).spec();
        assertEquals(a.workload(), b.workload());
        assertEquals(a.system(), b.system());
        for (int i = 0; i < a.devices().size(); i++) {
            var da = a.devices().get(i).deepCopy();
            var db = b.devices().get(i).deepCopy();
            da.remove("options");
            db.remove("options");
            assertEquals(da, db);
        }
        var vroot = b.devices().stream().filter(d -> d.get("name").asText().equals("vroot")).findFirst().orElseThrow();
        assertEquals("[\"kverityd_flags=highpri\"]", vroot.get("options").toString());
    }
}
