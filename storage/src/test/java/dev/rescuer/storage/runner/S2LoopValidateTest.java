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
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S2's kswapd-over-loop variants under the validator: the wake-up of {@code dm_buffer B_WRITING}
 * comes from the lower disk's interrupt, which holds nothing; the dependency that matters is what
 * the loop worker did while it owned the buffer's bio (its {@code GFP_KERNEL} dio allocation:
 * {@code fs_reclaim}), carried by the bio to its end-io. Without that hand-off rule the hanging
 * variants completed schedules with no report. The 1,000-schedule runs are in docs/VALIDATOR.md.
 */
class S2LoopValidateTest {

    private static final int SCHEDULES = 3;

    private static ValidationResult validate(String variant) {
        StackScenario s = StackScenario.load(Path.of("..", "stacks", "s2-loop-bufio.yaml"));
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(SCHEDULES));
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
