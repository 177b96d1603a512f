package dev.rescuer.storage.runner;

import dev.rescuer.check.Dependency;
import dev.rescuer.check.LockClass;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.ValidationResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S2 under the validator. The kswapd-over-loop variants: the wake-up of {@code dm_buffer B_WRITING}
 * comes from the lower disk's interrupt, which holds nothing; the dependency that matters is what
 * the loop worker did while it owned the buffer's bio (its {@code GFP_KERNEL} dio allocation:
 * {@code fs_reclaim}), carried by the bio to its end-io. Without that hand-off rule the hanging
 * variants completed schedules with no report. The two pre-2014 shrinker variants of case (a): the
 * filesystem user writes a hole of {@code scratch} (allocation group 0, {@code image}'s) or of
 * {@code spool} (group 1), drawn per schedule, holding the group's AGF across a {@code GFP_NOFS}
 * allocation; a schedule that drew {@code spool} completes (the loop worker, allocating a block of
 * {@code image}, takes group 0's AGF, another instance of the class the user holds) and records both
 * halves of the cycle that a schedule drawing {@code scratch} hangs in. The 1,000-schedule runs are in docs/VALIDATOR.md.
 */
class S2LoopValidateTest {

    private static final int SCHEDULES = 3;

    /** Schedules for case (a): about half draw {@code spool} and complete. */
    private static final int CASE_A_SCHEDULES = 6;

    private static ValidationResult validate(String variant) {
        return validate(variant, SCHEDULES);
    }

    private static ValidationResult validate(String variant, int schedules) {
        StackScenario s = StackScenario.load(Path.of("..", "stacks", "s2-loop-bufio.yaml"));
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(schedules));
    }

    /**
     * The cycle of case (a)'s hang, {@code agf -> dm_buffer B_WRITING -> agf}, from the first completed
     * schedule of 0..N-1 that recorded it; replaying its seed completes. The same schedules record
     * {@code i_rwsem -> dm_buffer B_WRITING -> i_rwsem} too: the user holds its file's inode lock
     * around the allocation, and {@code loop0} takes {@code image}'s while it serves the buffer's bio
     * (a user writing a hole of {@code image} itself would hang in that one).
     */
    private static void assertTheAgfCycleFromACompletedSchedule(String variant) {
        ValidationResult r = validate(variant, CASE_A_SCHEDULES);
        assertTrue(r.validatedSchedules() > 0, "some schedule completes");
        assertTrue(r.hangs() > 0, "and some schedule hangs: " + r.validatedSchedules() + " of " + CASE_A_SCHEDULES + " completed");
        assertEquals(List.of(List.of("agf", "dm_buffer B_WRITING"), List.of("dm_buffer B_WRITING", "i_rwsem")),
                r.cycles().stream().map(S2LoopValidateTest::classes).sorted(Comparator.comparing(Object::toString)).toList(), r::report);
        ValidationResult.Found f = r.cycles().stream().filter(c -> classes(c).contains("agf")).findFirst().orElseThrow();
        Dependency wait = f.cycle().links().stream().filter(d -> d.type() == Dependency.Type.WAIT).findFirst().orElseThrow();
        assertEquals("thin", wait.task(), wait::describe);
        assertEquals("agf", wait.from().toString(), wait::describe);
        Dependency signal = f.cycle().links().stream().filter(d -> d.type() == Dependency.Type.SIGNAL).findFirst().orElseThrow();
        assertEquals("loop0", signal.task(), signal::describe);
        assertEquals("agf", signal.to().toString(), signal::describe);
        StackScenario s = StackScenario.load(Path.of("..", "stacks", "s2-loop-bufio.yaml"));
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant(variant), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "the cycle came from schedule " + f.schedule() + ", which did not hang");
    }

    private static List<String> classes(ValidationResult.Found f) {
        return f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList());
    }

    @Test
    void theFilesystemUsersAgfAgainstTheLoopWorkersIsReportedFromACompletedSchedule() {
        assertTheAgfCycleFromACompletedSchedule("nofs-pre2014-shrinker");
    }

    @Test
    void aNoioLoopWorkerDoesNotRemoveTheAgfCycle() {
        assertTheAgfCycleFromACompletedSchedule("chinner-noio-pre2014-shrinker");
    }

    @Test
    void the2014ShrinkerHasNoPotentialCycleInCaseA() {
        for (String v : List.of("nofs-2014-shrinker", "chinner-noio-2014-shrinker")) {
            ValidationResult r = validate(v, CASE_A_SCHEDULES);
            assertEquals(CASE_A_SCHEDULES, r.validatedSchedules(), v);
            assertEquals(List.of(), r.cycles(), r::report);
        }
    }

    private static void assertReclaimThroughTheLoopWorker(String variant) {
        ValidationResult r = validate(variant);
        assertTrue(r.validatedSchedules() > 0, "some schedule completes");
        assertEquals(1, r.cycles().size(), r::report);
        ValidationResult.Found f = r.cycles().get(0);
        assertEquals(List.of("dm_buffer B_WRITING", "fs_reclaim"),
                f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
        Dependency carried = f.cycle().links().stream().filter(d -> d.type() == Dependency.Type.SIGNAL).findFirst().orElseThrow();
        assertTrue(carried.task().startsWith("timer"), carried::describe);
        assertTrue(carried.describe().contains("for its owner loop0, which acquired fs_reclaim (write) while it owned it"),
                carried::describe);
        StackScenario s = StackScenario.load(Path.of("..", "stacks", "s2-loop-bufio.yaml"));
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant(variant), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "the cycle came from a schedule that did not hang");
    }

    @Test
    void theLoopWorkersGfpKernelAllocationIsReportedFromACompletedSchedule() {
        assertReclaimThroughTheLoopWorker("kswapd-loop-gfp-kernel");
    }

    @Test
    void theTrylockShrinkerStillWaitsThroughTheLoopWorker() {
        assertReclaimThroughTheLoopWorker("kswapd-loop-trylock");
    }

    @Test
    void aNoioLoopWorkerHasNoPotentialCycle() {
        ValidationResult r = validate("kswapd-loop-noio");
        assertEquals(SCHEDULES, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }
}
