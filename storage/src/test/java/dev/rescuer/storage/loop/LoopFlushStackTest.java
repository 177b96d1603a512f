package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.runner.StackScenario;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A filesystem on a loop device whose image is a file of another filesystem, fsync on the top, with
 * worker creation failing so that rescuers run every item (the tester's p07). The upper log commit is
 * {@code REQ_PREFLUSH | REQ_FUA}; loop has a write cache without FUA, so the commit reaches the loop
 * worker as a flush first, and the flush is {@code lo_req_flush}: an fsync of the image, which forces
 * the lower filesystem's log with a {@code flush_work} of its push. With one rescuer per queue every
 * schedule completes; with one rescuer shared by {@code xfs-cil/loop0} and {@code xfs-cil/sda} (the
 * analyzer's plan before the loop worker declared that edge) the rescuer runs the upper push, which
 * waits for the commit's preflush, which waits for the lower push, which only that rescuer could run.
 */
class LoopFlushStackTest {

    private static StackScenario stack() throws IOException {
        try (InputStream in = LoopFlushStackTest.class.getResourceAsStream("/stacks/fs-on-loop-shared-rescuer.yaml")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new StackScenario(StackFile.parse("fs-on-loop-shared-rescuer.yaml", "fs-on-loop-shared-rescuer", text, Kinds.builtIn()));
        }
    }

    @Test
    void ownRescuersCompleteAndOneSharedByBothLogsHangsOnTheLoopFlush() throws IOException {
        StackScenario s = stack();
        Explorations.assertCompletes(s, "own-no-workers", StrategyKind.PCT, 30);
        ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("plan-no-workers"), ExploreOptions.defaults().withSchedules(30));
        assertEquals("hang", r.result());
        String cycle = String.join("\n", r.firstFinding().report().cycle());
        assertTrue(cycle.contains("waits on completion submit_bio_wait xlog commit seq") && cycle.contains("preflush), queued for loop0"), cycle);
        assertTrue(cycle.contains("loop0:") && cycle.contains("released by flush of work xlog_cil_push_work sda on workqueue xfs-cil/sda, pending; "
                + "its rescuer is kworker/R-rescuer-1"), cycle);
    }
}
