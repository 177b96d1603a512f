package dev.rescuer.storage.runner;

import dev.rescuer.check.Dependency;
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
 *
 * <p>{@code notify-system-wq} and {@code notify-reclaim-wq-mdmon-allocates} complete only in the
 * schedules whose database fsync ({@code db}'s {@code start_ms: 185..215}, drawn per schedule) misses
 * the window around the driver reset in which it takes md_wq's rescuer while kthreadd is in reclaim;
 * those schedules record both halves of the hang's cycle at different times. The schedule is not
 * picked: the tests read schedules 0..N-1 and take the first completed one that recorded the cycle.
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
        assertCycleFromACompletedSchedule(variant, r, THROUGH_THE_NOTIFY_ITEM);
    }

    /**
     * Asserts that some completed schedule's report has a cycle through every one of {@code classes}
     * (the first such schedule of the run, whichever it is), and that replaying that schedule's seed
     * completes; returns the cycle.
     */
    private static ValidationResult.Found assertCycleFromACompletedSchedule(String variant, ValidationResult r, Set<String> classes) {
        assertTrue(r.validatedSchedules() > 0, "some schedule completes");
        ValidationResult.Found f = r.cycles().stream().filter(c -> classes(c).containsAll(classes))
                .findFirst().orElseThrow(() -> new AssertionError("no cycle through " + classes + ":\n" + r.report()));
        StackScenario s = s3();
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant(variant), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "the cycle came from a schedule that did not hang");
        return f;
    }

    /**
     * Runs schedules 0..5 of {@code variant} (the fsync's time drawn in each): asserts that some hang,
     * that a completed one reported a cycle through reclaim forcing the log onto md126 ({@code
     * xlog_cil_push_work md126}, {@code sb_wait}) and {@code closing}, whose link {@code sb_wait ->
     * closing} is of {@code type} and was recorded by a task whose name starts with {@code task}, and
     * that the schedule replays to completion.
     */
    private static void assertHangsAndReportsItsCycle(String variant, String closing, Dependency.Type type, String task) {
        ValidationResult r = validate(variant, 6);
        assertTrue(r.hangs() > 0, "the variant still hangs where the fsync meets the reset: " + r.hangs() + " of 6");
        ValidationResult.Found f = assertCycleFromACompletedSchedule(variant, r,
                Set.of("(work_completion)xlog_cil_push_work md126", "&mddev->sb_wait", closing));
        assertTrue(f.cycle().links().stream().anyMatch(d -> d.from().toString().equals("&mddev->sb_wait")
                && d.to().toString().equals(closing) && d.type() == type && d.task().startsWith(task)), f.cycle()::format);
    }

    @Test
    void notifySystemWqIsReportedFromACompletedScheduleAndOthersHang() {
        // md127's md_submit_flush_data on md_wq (its rescuer in the hang) waits on sb_wait for a change
        // only the notify item on system_wq (no rescuer) can deliver: it depends on reclaim, a new
        // worker, which kthreadd creates while it forces the log in the hang
        assertHangsAndReportsItsCycle("notify-system-wq", "fs_reclaim", Dependency.Type.WAIT, "kworker/R-md");
    }

    @Test
    void mdmonAllocatesIsReportedThroughTheInodeReclaimLockFromACompletedSchedule() {
        // mdmon's page fault reclaimed (took the inode cache's reclaim lock) before it cleared the
        // change: in the hang it waits on that lock, held by kthreadd across the log force
        assertHangsAndReportsItsCycle("notify-reclaim-wq-mdmon-allocates", "pag_ici_reclaim_lock", Dependency.Type.SIGNAL, "mdmon/");
    }

    @Test
    void theSupersRwsemHangIsReportedFromACompletedSchedule() {
        // the first completed schedule that records a cycle through these classes is looked up, not
        // picked: schedule 0 of the base seed (through fs_reclaim, as mdmon-locked's); the mount's
        // write hold under the CIL flush itself, without fs_reclaim, from schedule 3 (docs/VALIDATOR.md)
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
