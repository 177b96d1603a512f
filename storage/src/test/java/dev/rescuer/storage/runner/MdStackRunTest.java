package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * md arrays built from a stack file, run in the simulator: a flushing write to an array with
 * external metadata completes only when mdmon clears {@code MD_SB_CHANGE_PENDING} (on either notify
 * queue, woken by poll or by fsnotify); without mdmon it waits on {@code sb_wait} for good; with
 * internal metadata the array's md thread clears it.
 */
class MdStackRunTest {

    private static final String STACK = """
            name: md-run
            system: {cpus: 1, memory: {pages: 256}}
            modules:
              kernfs: {notify_wq: system_wq}
            devices:
              - {kind: disk, name: sda, sectors: 1024, latency_ms: 1}
              - {kind: disk, name: sdb, sectors: 1024, latency_ms: 1}
              - {kind: md-raid1, name: md0, members: [sda, sdb], metadata: external}
            workload:
              - {kind: mdmon, name: mdmon, memory: mlocked, wakeup: fsnotify}
              - {kind: writer, name: db, device: md0, count: 2, flags: [preflush, fua]}
            variants:
              - {name: system-wq, expected: complete, set: {}}
              - {name: kernfs-wq, expected: complete, set: {modules.kernfs.notify_wq: kernfs_wq}}
              - {name: poll, expected: complete, set: {workload.mdmon.wakeup: poll}}
              - {name: allocating, expected: complete, set: {workload.mdmon.memory: allocates}}
              - {name: internal, expected: complete, set: {devices.md0.metadata: internal}}
            """;

    private static StackScenario scenario(String text) {
        return new StackScenario(StackFile.parse("md-run.yaml", "md-run", text, Kinds.builtIn()));
    }

    @Test
    void mdmonClearsThePendingFlagOnEveryQueueAndWakeup() {
        StackScenario s = scenario(STACK);
        for (String v : List.of("system-wq", "kernfs-wq", "poll", "allocating", "internal")) {
            for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                Explorations.assertCompletes(s, v, k, 30);
            }
        }
    }

    @Test
    void withoutMdmonTheWriteWaitsOnSbWaitForGood() {
        StackScenario s = scenario(STACK.replace("  - {kind: mdmon, name: mdmon, memory: mlocked, wakeup: fsnotify}\n", "")
                .replace("set: {workload.mdmon.wakeup: poll}", "set: {}").replace("set: {workload.mdmon.memory: allocates}", "set: {}"));
        ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("system-wq"), ExploreOptions.defaults().withSchedules(5));
        assertEquals("hang", r.result());
        String report = r.firstFinding().report().toText();
        assertTrue(report.contains("on waitqueue md0/sb_wait"), report);
        Explorations.assertCompletes(s, "internal", StrategyKind.PCT, 10);
    }

    /**
     * raid1 over members of different sizes is as large as its smallest member less the superblock
     * (md's {@code dev_sectors}): the last whole I/O inside it completes; one past its end ends with an
     * I/O error in the run ({@code bio_check_eod}), and the writer's invariant says so.
     */
    @Test
    void membersOfDifferentSizesMakeAnArrayOfTheSmallestsSizeAndAWritePastItGetsEio() {
        String small = STACK.replace("{kind: disk, name: sdb, sectors: 1024", "{kind: disk, name: sdb, sectors: 512")
                .replace("device: md0, count: 2, flags: [preflush, fua]}", "device: md0, start_sector: 496, count: 1}");
        Explorations.assertCompletes(scenario(small), "internal", StrategyKind.PCT, 5);
        StackScenario past = scenario(small.replace("start_sector: 496", "start_sector: 504"));
        ExploreResult r = new Explorer(List.of(past)).explore(past, past.variant("internal"), ExploreOptions.defaults().withSchedules(1));
        assertEquals("failure", r.result());
        String report = r.firstFinding().report().toText();
        assertTrue(report.contains("invariant broken: db: every I/O succeeded"), report);
    }

    /**
     * mdmon is declared the releaser of {@code sb_wait} (a task releaser): when it cannot act (its
     * page fault finds no memory: the hog wants more than there is, nothing is reclaimable), the report's chain
     * goes from the waiting writer's {@code sb_wait} to mdmon and on to what mdmon waits for. Without the
     * declaration the chain ends at {@code sb_wait}.
     */
    @Test
    void theReportFollowsSbWaitToMdmon() {
        StackScenario s = scenario(STACK.replace("memory: {pages: 256}", "memory: {pages: 256, watermarks: [8, 12, 16]}")
                .replace("  - {kind: writer, name: db,", "  - {kind: memory-hog, name: hog, pages: 250, hold_ms: 100000}\n"
                        + "  - {kind: writer, name: db, start_ms: 50,")
                .replace("memory: mlocked, wakeup: fsnotify", "memory: allocates, wakeup: poll"));
        ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("system-wq"), ExploreOptions.defaults().withSchedules(5));
        assertEquals("hang", r.result());
        String chains = r.firstFinding().report().toText();
        assertTrue(chains.contains("waits on waitqueue md0/sb_wait [&mddev->sb_wait], released by mdmon/md0:"), chains);
    }

    @Test
    void aSysfsMountReleasesTheRwsemItHolds() {
        StackScenario s = scenario(STACK.replace("  - {kind: writer,", "  - {kind: sysfs-mount, name: mount, pages: 2}\n  - {kind: writer,"));
        Explorations.assertCompletes(s, "kernfs-wq", StrategyKind.PCT, 30);
    }
}
