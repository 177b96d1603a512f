package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S4a ({@code stacks/s4a-snapshot-on-verity.yaml}) and S4b ({@code stacks/s4b-verity-readers.yaml})
 * on the model: without {@code WQ_MEM_RECLAIM} verity's verification never runs under memory
 * pressure and the hang replays from its seed, and the report follows the hung read through its bios
 * to {@code verity_work} pending on {@code kverityd} and the pool's manager; with it every schedule
 * completes. CI budgets are small; the long runs are recorded in docs/STORAGE.md.
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
        // The wait for the bio is followed to the verification item and the pool that cannot run it.
        HangReport report = r.firstFinding().report();
        assertTrue(report.chains().stream().anyMatch(c -> c.get(0).contains("waits on completion submit_bio_wait xfs_iread")
                        && c.get(0).contains("end-io deferred to work verity_work vroot on workqueue kverityd/vroot, pending: no idle worker;"
                        + " creating one is kworker/0:0H")), text);
        assertTrue(report.cycles().isEmpty(), "kthreadd fails rather than blocks, so the chain ends at the manager's cooldown:\n" + text);
        assertTrue(report.toMap().get("wait_for_chains").toString().contains("verity_work vroot on workqueue kverityd/vroot"), text);
        RunResult again = explorer.replay(s, s.variant(variant), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
    }

    /**
     * S4a's margins: the hog leaves {@code leave_free} pages free, and both verdicts hold at either end
     * of the range the stack file documents (10 and 18; it ships with 14).
     */
    @ParameterizedTest
    @CsvSource({"10", "18"})
    void s4aVerdictsHoldAcrossTheDocumentedRangeOfFreeMemory(int leaveFree, @TempDir Path dir) throws java.io.IOException {
        String yaml = Files.readString(Path.of("..", "stacks", "s4a-snapshot-on-verity.yaml"));
        assertTrue(yaml.contains("leave_free: 14,"), "the stack file no longer ships leave_free 14");
        Path f = dir.resolve("s4a.yaml");
        Files.writeString(f, yaml.replace("leave_free: 14,", "leave_free: " + leaveFree + ","));
        StackScenario s = StackScenario.load(f);
        Explorer explorer = new Explorer(List.of(s));
        ExploreResult hang = explorer.explore(s, s.variant("verity-no-mem-reclaim"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", hang.result());
        assertTrue(hang.firstFinding().report().toText().contains("pending: verity_work vroot"), hang.firstFinding().report().toText());
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            ExploreResult r = explorer.explore(s, s.variant("verity-mem-reclaim"), ExploreOptions.defaults().withStrategy(k).withSchedules(5));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().reason() + "\n" + r.firstFinding().report());
        }
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
