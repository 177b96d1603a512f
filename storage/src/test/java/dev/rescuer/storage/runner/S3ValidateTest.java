package dev.rescuer.storage.runner;

import dev.rescuer.check.LockClass;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.ValidationResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S3 under the validator. An external array's {@code sb_wait} is owned, while the superblock change
 * is pending and mdmon's inotify watch has not yet been told, by the kernfs notify item
 * ({@code sysfs_notify_dirent_safe} hands the clearing of {@code MD_SB_CHANGE_PENDING} to mdmon
 * through {@code kernfs_notify_workfn}); so {@code md_write_start}'s wait depends on the item, whose
 * {@code down_read(kernfs_supers_rwsem)} closes Tejun's chain. Without that owner no completed
 * schedule records the links through mdmon's idle wait, and the supers-rwsem variant has no report.
 * The 1,000-schedule runs are in docs/VALIDATOR.md.
 */
class S3ValidateTest {

    private static final Set<String> THROUGH_THE_NOTIFY_ITEM = Set.of("&mddev->sb_wait", "(work_completion)kernfs_notify_workfn",
            "&root->kernfs_supers_rwsem");

    private static StackScenario s3() {
        return StackScenario.load(Path.of("..", "stacks", "s3-md-mdmon.yaml"));
    }

    private static ValidationResult validate(String variant, int schedules) {
        StackScenario s = s3();
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(schedules));
    }

    private static Set<String> classes(ValidationResult.Found f) {
        return f.cycle().classes().stream().map(LockClass::toString).collect(Collectors.toSet());
    }

    /** Asserts a cycle through md's wait for the notify item and its read of the rwsem, from a schedule that completed. */
    private static void assertSupersRwsemCycle(String variant, ValidationResult r) {
        assertTrue(r.validatedSchedules() > 0, "some schedule completes");
        ValidationResult.Found f = r.cycles().stream().filter(c -> classes(c).containsAll(THROUGH_THE_NOTIFY_ITEM))
                .findFirst().orElseThrow(() -> new AssertionError("no cycle through the notify item:\n" + r.report()));
        StackScenario s = s3();
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant(variant), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "the cycle came from a schedule that did not hang");
    }

    @Test
    void theSupersRwsemHangIsReportedFromACompletedSchedule() {
        // schedules 0..5 of the base seed hang or complete without the mount's write hold under the
        // CIL flush; schedule 6 is the first that records the chain (docs/VALIDATOR.md)
        ValidationResult r = validate("notify-reclaim-wq-supers-rwsem", 7);
        assertSupersRwsemCycle("notify-reclaim-wq-supers-rwsem", r);
    }

    @Test
    void mdmonLockedCompletesByTimingAndIsReportedToo() {
        ValidationResult r = validate("notify-reclaim-wq-mdmon-locked", 1);
        assertEquals(1, r.validatedSchedules(), "the variant completes");
        assertSupersRwsemCycle("notify-reclaim-wq-mdmon-locked", r);
        assertTrue(r.cycles().stream().allMatch(c -> classes(c).contains("fs_reclaim")), r::report);
    }

    @Test
    void inKernelMetadataHasNoPotentialCycle() {
        ValidationResult r = validate("in-kernel-metadata", 5);
        assertEquals(5, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }
}
