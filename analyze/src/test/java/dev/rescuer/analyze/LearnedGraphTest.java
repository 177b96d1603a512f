package dev.rescuer.analyze;

import dev.rescuer.check.Validator;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The analyzer on a graph the validator learned from one run on real threads. */
class LearnedGraphTest {

    @Test
    void anItemWaitingOnAnotherQueuesItemIsLearnedAsAChain() {
        learnTheChain(false);
    }

    /**
     * A run under a plan that shares one rescuer along the chain learns the same graph: the domain's
     * class {@code (wq_rescuer)shared} is the run's plan, not a wait, and is left out (kept, it made
     * the learned graph a cycle through the domain, and no plan).
     */
    @Test
    void aRunUnderASharedRescuerLearnsTheSameChain() {
        learnTheChain(true);
    }

    private static void learnTheChain(boolean sharedRescuer) {
        RealPlatform platform = new RealPlatform();
        Validator validator = Validator.attach(platform);
        try (RescuerSystem sys = RescuerSystem.builder().platform(platform).pagesPerThread(0).hungTaskTimeout(Duration.ZERO).build()) {
            if (sharedRescuer) {
                sys.workqueues().presetRescuerDomain("upper", "shared");
                sys.workqueues().presetRescuerDomain("lower", "shared");
            }
            WorkQueue upper = sys.workqueues().create("upper", 0, WqFlag.MEM_RECLAIM);
            WorkQueue lower = sys.workqueues().create("lower", 0, WqFlag.MEM_RECLAIM);
            WorkQueue other = sys.workqueues().create("other", 0, WqFlag.MEM_RECLAIM);
            Task t = platform.startThread("submitter", () -> {
                Completion done = new Completion(platform, "upper done", "upper_done");
                upper.queue(new Work("upper_item", () -> {
                    Completion lowerDone = new Completion(platform, "lower done", "lower_done");
                    lower.queue(new Work("lower_item", lowerDone::complete));
                    lowerDone.waitFor();
                    done.complete();
                }));
                done.waitFor();
                other.queue(new Work("other_item", () -> { }));
                other.flush();
            });
            platform.join(t);
            assertNull(t.failure());
            Analysis a = Analyzer.analyze(LearnedGraph.from(validator.dependencies(), sys.workqueues()), "learned");
            assertTrue(a.hasPlan(), a.toText());
            assertEquals(List.of("lower", "upper"), a.longestChain(), a.toText());
            assertEquals(2, a.minRescuers(), a.toText());
            assertEquals("rescuer-1", a.assignment().get("lower"));
            assertEquals("rescuer-2", a.assignment().get("upper"));
        } finally {
            platform.close();
        }
    }
}
