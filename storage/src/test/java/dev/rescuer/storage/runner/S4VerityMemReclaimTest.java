package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.Test;
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
 * pressure and the hang replays from its seed; S4a's report has the wait-for cycle through kthreadd,
 * the log force and {@code kverityd}, S4b's follows the hung reads through their bios to
 * {@code verity_work} pending on {@code kverityd} and the pool's manager; with it every schedule
 * completes. CI budgets are small; the long runs are recorded in docs/STORAGE.md.
 */
class S4VerityMemReclaimTest {

    private static StackScenario load(String file) {
        return StackScenario.load(Path.of("..", "stacks", file));
    }

    /**
     * S4a: kthreadd, creating the worker kverityd's pool needs for its first item (the reader's inode
     * read), reclaims and forces the log; the log write must copy its chunk, the copy reads the origin,
     * and that read's verification is pending on the same pool: the report's wait-for cycle goes
     * through kthreadd, the log force and kverityd.
     */
    @Test
    void s4aWithoutMemReclaimHangsInACycleThroughKthreaddTheLogForceAndKverityd() {
        HangReport report = hangThatReplays("s4a-snapshot-on-verity.yaml", "verity-no-mem-reclaim");
        String text = report.toText();
        assertTrue(text.contains("workqueue kverityd/vroot: flags=[HIGHPRI]"), text);
        assertEquals(1, report.cycles().size(), text);
        String cycle = String.join("\n", report.cycles().get(0));
        assertTrue(cycle.contains("kthreadd:4 waits on waitqueue (work_completion)xlog_cil_push_work vsnap"), cycle);
        assertTrue(cycle.contains("xlog write seq"), cycle);
        assertTrue(cycle.contains("kcopyd read), end-io deferred to work verity_work vroot on workqueue kverityd/vroot"), cycle);
        assertTrue(cycle.contains("released by kthreadd, which creates the thread"), cycle);
        assertTrue(report.toMap().get("wait_for_cycles").toString().contains("kverityd/vroot"), text);
    }

    /** Explores {@code variant} for 100 schedules, expects a hang that replays from its seed to the same trace, and returns its report. */
    private static HangReport hangThatReplays(String file, String variant) {
        StackScenario s = load(file);
        Explorer explorer = new Explorer(List.of(s));
        ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result());
        RunResult again = explorer.replay(s, s.variant(variant), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
        return r.firstFinding().report();
    }

    /** S4b: the readers hang on verity; kthreadd fails rather than blocks, so the report has chains, not a cycle. */
    @Test
    void s4bWithoutMemReclaimTheVerificationNeverRunsAndTheHangReplays() {
        HangReport report = hangThatReplays("s4b-verity-readers.yaml", "no-mem-reclaim");
        String text = report.toText();
        assertTrue(text.contains("workqueue kverityd/vroot: flags=[HIGHPRI]"), text);
        assertTrue(text.contains("pending: verity_work vroot"), text);
        assertTrue(text.contains("blocked for more than 120 seconds on completion submit_bio_wait"), text);
        // The wait for the bio is followed to the verification item and the pool that cannot run it.
        assertTrue(report.chains().stream().anyMatch(c -> c.get(0).contains("waits on completion submit_bio_wait")
                        && c.get(0).contains("end-io deferred to work verity_work vroot on workqueue kverityd/vroot")), text);
        assertTrue(report.cycles().isEmpty(), "kthreadd fails rather than blocks, so the chain ends at the manager's cooldown:\n" + text);
        assertTrue(report.toMap().get("wait_for_chains").toString().contains("verity_work vroot on workqueue kverityd/vroot"), text);
    }

    /**
     * S4a's margins: the hog leaves {@code leave_free} pages free, and both verdicts hold at either end
     * of the range the stack file documents (8 and 18; it ships with 14): the cycle at both ends.
     */
    @ParameterizedTest
    @CsvSource({"8", "18"})
    void s4aVerdictsHoldAcrossTheDocumentedRangeOfFreeMemory(int leaveFree, @TempDir Path dir) throws java.io.IOException {
        String yaml = Files.readString(Path.of("..", "stacks", "s4a-snapshot-on-verity.yaml"));
        assertTrue(yaml.contains("leave_free: 14,"), "the stack file no longer ships leave_free 14");
        Path f = dir.resolve("s4a.yaml");
        Files.writeString(f, yaml.replace("leave_free: 14,", "leave_free: " + leaveFree + ","));
        StackScenario s = StackScenario.load(f);
        Explorer explorer = new Explorer(List.of(s));
        ExploreResult hang = explorer.explore(s, s.variant("verity-no-mem-reclaim"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", hang.result());
        assertEquals(1, hang.firstFinding().report().cycles().size(), hang.firstFinding().report().toText());
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
