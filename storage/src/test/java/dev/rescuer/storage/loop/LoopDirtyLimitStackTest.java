package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.runner.StackScenario;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;

/**
 * A filesystem on a loop device backed by a file of another filesystem, under ordinary dirty
 * throttling (the tester's p12, {@code stacks/loop-dirty-limit.yaml} in the test resources): the
 * writer's 200 pages put the system over its dirty limit, and the loop worker, writing them into the
 * image, is throttled too. With {@code PF_LOCAL_THROTTLE} (both loop modes) the worker is held only
 * against the image device's own share, which that device's writeback cleans, so every schedule
 * completes; before, it waited for the global count, which only its own progress could lower.
 */
class LoopDirtyLimitStackTest {

    private static StackScenario stack() throws IOException {
        try (InputStream in = LoopDirtyLimitStackTest.class.getResourceAsStream("/stacks/loop-dirty-limit.yaml")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new StackScenario(StackFile.parse("loop-dirty-limit.yaml", "loop-dirty-limit", text, Kinds.builtIn()));
        }
    }

    @Test
    void theLoopWorkerIsNotHeldByTheDirtyPagesAboveItInEitherMode() throws IOException {
        StackScenario s = stack();
        Explorations.assertCompletes(s, "workqueue", StrategyKind.PCT, 30);
        Explorations.assertCompletes(s, "kthread", StrategyKind.PCT, 30);
        Explorations.assertCompletes(s, "workqueue", StrategyKind.RANDOM, 20);
    }
}
