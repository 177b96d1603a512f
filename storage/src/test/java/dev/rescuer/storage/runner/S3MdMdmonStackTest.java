package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.md.S3MdMdmonTest;
import dev.rescuer.storage.pagecache.Explorations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S3 (seed 002) as a stack file: {@code stacks/s3-md-mdmon.yaml}. Each hanging variant hangs with
 * md_wq's rescuer asleep in md127's {@code md_write_start} on {@code sb_wait} (released by mdmon),
 * md126's flush queued behind it, and the log force that waits for md126 in a reclaiming task
 * (kthreadd creating a worker, or the variant's own allocating task), closed into one wait-for
 * cycle; the completing variants complete. CI budgets are small; the long runs and the sweep over memory sizes are in
 * docs/STORAGE.md ({@link S3Measurements}).
 */
class S3MdMdmonStackTest {

    static final Path STACK = Path.of("..", "stacks", "s3-md-mdmon.yaml");

    private final StackScenario s = StackScenario.load(STACK);
    private final Explorer explorer = new Explorer(List.of(s));

    /**
     * Whether {@code report} shows S3's shape: md_wq's rescuer in md127's {@code md_submit_flush_data}
     * on {@code sb_wait}, released by mdmon; md126's flush (either half) pending on md_wq behind it; and a task
     * waiting for the CIL push of md126's log.
     */
    static boolean hasS3Shape(HangReport report) {
        String t = report.toText();
        return t.matches("(?s).*kworker/R-md:\\d+ waits on waitqueue md127/sb_wait \\[&mddev->sb_wait], released by mdmon/md127:.*")
                && t.contains("md127 md_submit_flush_data (rescuer)")
                && mdWqHasMd126Pending(t)
                && t.contains("on waitqueue (work_completion)xlog_cil_push_work md126");
    }

    /** Whether the first dump of {@code md_wq} in {@code text} lists an item of md126 as pending. */
    private static boolean mdWqHasMd126Pending(String text) {
        int at = text.indexOf("workqueue md: ");
        if (at < 0) {
            return false;
        }
        int end = text.indexOf("workqueue ", at + 1);
        return text.substring(at, end < 0 ? text.length() : end).contains("pending: md126 ");
    }

    private ExploreResult hang(String variant) {
        ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withSchedules(100));
        assertEquals("hang", r.result(), () -> r.firstFinding() == null ? "no finding"
                : r.firstFinding().reason() + "\n" + r.firstFinding().report().toText());
        assertTrue(hasS3Shape(r.firstFinding().report()), r.firstFinding().report().toText());
        assertTrue(S3MdMdmonTest.hasS3Cycle(r.firstFinding().report(), variant), r.firstFinding().report().toText());
        return r;
    }

    private static void assertContains(String report, String... parts) {
        for (String p : parts) {
            assertTrue(report.contains(p), () -> "no \"" + p + "\" in\n" + report);
        }
    }

    @Test
    void notifyOnSystemWqHangsWithKthreaddForcingTheLog() {
        String report = hang("notify-system-wq").firstFinding().report().toText();
        // kthreadd, creating the worker the notify item waits for, forces the log onto md126.
        assertContains(report, "kthreadd:4 waits on waitqueue (work_completion)xlog_cil_push_work md126",
                "waits on completion kthread_create", "released by kthreadd, which creates the thread: kthreadd:4",
                "pending: reset/event, kernfs_notify_workfn");
    }

    @Test
    void aReclaimQueueWithAnAllocatingMdmonStillHangs() {
        String report = hang("notify-reclaim-wq-mdmon-allocates").firstFinding().report().toText();
        // the notify item ran on kernfs_wq's rescuer; mdmon woke and its page fault waits behind kthreadd's log force
        assertContains(report, "mdmon/md127:", "waits on mutex md126/pag_ici_reclaim_lock [pag_ici_reclaim_lock], held by kthreadd:4");
    }

    @Test
    void aReclaimQueueWithAnAllocatingRwsemWriterHangs() {
        String report = hang("notify-reclaim-wq-supers-rwsem").firstFinding().report().toText();
        assertContains(report, "kworker/R-kernfs:", "waits on rwsem sysfs/kernfs_supers_rwsem [&root->kernfs_supers_rwsem], held for write by mount:");
    }

    /**
     * Each hanging variant's first hang, from several base seeds, has S3's wait-for cycle with the
     * tasks docs/STORAGE.md's table names ({@link S3MdMdmonTest#hasS3Cycle}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"notify-system-wq", "notify-reclaim-wq-mdmon-allocates", "notify-reclaim-wq-supers-rwsem"})
    void eachHangShowsS3sCycleFromSeveralSeeds(String variant) {
        for (long seed = 1; seed <= 5; seed++) {
            ExploreResult r = explorer.explore(s, s.variant(variant), ExploreOptions.defaults().withSchedules(100).withSeed(seed));
            assertEquals("hang", r.result(), variant + " seed " + seed);
            HangReport report = r.firstFinding().report();
            assertTrue(S3MdMdmonTest.hasS3Cycle(report, variant), () -> variant + ": no S3 cycle in\n" + report.toText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"notify-reclaim-wq-mdmon-locked", "in-kernel-metadata"})
    void theFixesCompleteUnderPctAndRandomWalk(String variant) {
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            Explorations.assertCompletes(s, variant, k, 20);
        }
    }

    @Test
    void theHangReplaysFromItsSeed() {
        ExploreResult r = hang("notify-system-wq");
        RunResult again = explorer.replay(s, s.variant("notify-system-wq"), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
    }
}
