package dev.rescuer.storage.runner;

import dev.rescuer.check.Dependency;
import dev.rescuer.check.LockClass;
import dev.rescuer.check.Validator;
import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.ValidationResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validator on dm-verity's fixed variants reports nothing. Two false positives it used to report
 * from the first completed schedule: a {@code submit_bio_wait} for a hash block on the disk below was
 * one class with the wait for a read through the verity device above it (now each driver's bio
 * completions are a class, as each gendisk's lockdep map is in the kernel), and a kverityd item
 * waiting for a hash buffer another kverityd item was reading looked like a wait on the queue's own
 * slot (now dm-bufio's reader requests the wake-up when it inserts the buffer, so its wake-up owes
 * nothing to the slot it held before). The 1,000-schedule runs are in docs/VALIDATOR.md.
 *
 * <p>On S4a's hanging variant the cycle its hang shows is reported from a schedule that completed:
 * the reader's start is drawn per run ({@code start_ms: 0..400}); where it reads the origin before
 * the hog, kverityd's pool has its spare worker when kthreadd's reclaim forces the log, the copy's
 * origin read is verified, and the run completes having recorded both halves.
 */
class VerityValidateTest {

    private static final int SCHEDULES = 6;

    private static ValidationResult validate(String stack, String variant) {
        return validate(stack, variant, SCHEDULES);
    }

    private static ValidationResult validate(String stack, String variant, int schedules) {
        StackScenario s = StackScenario.load(Path.of("..", "stacks", stack));
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(schedules));
    }

    /** The classes of the hang's cycle: kthreadd's reclaim, its flush of the CIL push, the push's wait for its log write. */
    private static final Set<String> THROUGH_THE_LOG_FORCE = Set.of("fs_reclaim", "(work_completion)xlog_cil_push_work vsnap",
            "(bio completion)dm");

    @Test
    void snapshotOnVerityWithoutMemReclaimReportsTheHangsCycleFromACompletedSchedule() {
        // about one schedule in five completes (its reader starts before the hog: docs/VALIDATOR.md);
        // which one reports the cycle is read from the result
        int schedules = 12;
        ValidationResult r = validate("s4a-snapshot-on-verity.yaml", "verity-no-mem-reclaim", schedules);
        assertTrue(r.validatedSchedules() > 0 && r.hangs() > 0, "some schedules complete, others hang: " + r.validatedSchedules()
                + " completed of " + schedules);
        ValidationResult.Found f = r.cycles().stream()
                .filter(c -> c.cycle().classes().stream().map(LockClass::toString).collect(Collectors.toSet()).equals(THROUGH_THE_LOG_FORCE))
                .findFirst().orElseThrow(() -> new AssertionError("no cycle through the log force:\n" + r.report()));
        Dependency kthreadd = link(f, "fs_reclaim");
        assertEquals("kthreadd", kthreadd.task(), f.cycle().format());
        assertEquals("(work_completion)xlog_cil_push_work vsnap", kthreadd.to().toString());
        // The link back to reclaim is the verification item's: a kverityd item without a rescuer may
        // have waited for a worker whose creation reclaims, and the log write completed in it.
        Dependency verity = link(f, "(bio completion)dm");
        assertEquals("fs_reclaim", verity.to().toString());
        assertTrue(verity.stack().stream().anyMatch(e -> e.getClassName().endsWith("VerityTarget") && e.getMethodName().equals("verityWork")), f.cycle().format());
        StackScenario s = StackScenario.load(Path.of("..", "stacks", "s4a-snapshot-on-verity.yaml"));
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant("verity-no-mem-reclaim"), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "schedule " + f.schedule() + " did not hang");
    }

    private static Dependency link(ValidationResult.Found f, String from) {
        return f.cycle().links().stream().filter(d -> d.from().toString().equals(from)).findFirst().orElseThrow();
    }

    /**
     * S4b's hang is no cycle but a stall on memory the hog holds: held for 100 s instead of 300 s
     * (below the hung-task detector's 120 s), every schedule of {@code no-mem-reclaim} completes, and
     * the validator reports nothing from it. What the readers' waits do record is the hazard alone,
     * {@code (bio completion)dm -> fs_reclaim} (the verification item may need a worker whose creation
     * reclaims), with nothing under {@code fs_reclaim} waiting on a read to close it (docs/VALIDATOR.md).
     */
    @Test
    void verityReadersWithoutMemReclaimStallOnTheHogWithoutACycle(@TempDir Path dir) throws IOException {
        String yaml = Files.readString(Path.of("..", "stacks", "s4b-verity-readers.yaml"));
        assertTrue(yaml.contains("hold_ms: 300000}"), "the stack file no longer holds the hog for 300 s");
        Path f = dir.resolve("s4b.yaml");
        Files.writeString(f, yaml.replace("hold_ms: 300000}", "hold_ms: 100000}"));
        StackScenario s = StackScenario.load(f);
        Explorer explorer = new Explorer(List.of(s));
        ValidationResult r = explorer.validate(s, s.variant("no-mem-reclaim"), ExploreOptions.defaults().withSchedules(2));
        assertEquals(2, r.validatedSchedules(), "a stall shorter than the detector's timeout is no hang");
        assertEquals(List.of(), r.cycles(), r::report);

        ExploreOptions o = ExploreOptions.defaults();
        RunSeed seed = RunSeed.forSchedule(s, s.variant("no-mem-reclaim"), o.strategy(), o.depth(), o.seed(), 0);
        Validator v = new Validator();
        try (CarrierPool pool = new CarrierPool("s4b")) {
            RunResult run = explorer.run(s, s.variant("no-mem-reclaim"), seed, 0, pool, o.livelockBound(), v);
            assertEquals(Outcome.COMPLETED, run.outcome());
        }
        assertTrue(v.dependencies().stream().anyMatch(d -> d.from().toString().equals("(bio completion)dm")
                && d.to().toString().equals("fs_reclaim")), "the readers' waits depend on worker creation");
        assertTrue(v.dependencies().stream().noneMatch(d -> d.from().toString().equals("fs_reclaim")
                && d.to().toString().equals("(bio completion)dm")), "nothing in reclaim waits on a read");
    }

    @Test
    void snapshotOnVerityWithARescuerHasNoPotentialCycle() {
        ValidationResult r = validate("s4a-snapshot-on-verity.yaml", "verity-mem-reclaim");
        assertEquals(SCHEDULES, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }

    @Test
    void verityReadersWithARescuerHaveNoPotentialCycle() {
        ValidationResult r = validate("s4b-verity-readers.yaml", "mem-reclaim");
        assertEquals(SCHEDULES, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }
}
