package dev.rescuer.storage.runner;

import dev.rescuer.check.Dependency;
import dev.rescuer.check.LockClass;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.ValidationResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S13 under the validator. {@code chain-shared-no-workers} puts kcopyd and ksnaphd of one snapshot in
 * one rescuer domain, and worker creation starts failing after a number of creations each schedule
 * draws from {@code 0..3}: where it fails from the start, the shared rescuer runs kcopyd's item, whose
 * {@code chunk_io} flushes ksnaphd, whose item only that rescuer could run, and the schedule hangs;
 * elsewhere workers run the items and the schedule completes, and the validator reports the cycle
 * through the domain's class. Before the domain had a class, no schedule completed and a completed one
 * would have reported nothing. The 1,000-schedule runs are in docs/VALIDATOR.md.
 */
class S13ValidateTest {

    private static final int SCHEDULES = 4;

    private static StackScenario s13() {
        return StackScenario.load(Path.of("..", "stacks", "s13-independent-stacks.yaml"));
    }

    private static ValidationResult validate(String variant, int schedules) {
        StackScenario s = s13();
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(schedules));
    }

    @Test
    void sharingTheRescuerAlongTheChainHangsInSomeSchedulesAndIsReportedFromOneThatCompleted() {
        StackScenario s = s13();
        ExploreResult explored = new Explorer(List.of(s)).explore(s, s.variant("chain-shared-no-workers"),
                ExploreOptions.defaults().withSchedules(SCHEDULES));
        assertEquals("hang", explored.result(), "the same variant hangs in one of these schedules");
        assertTrue(explored.firstFinding().report().cycle().stream().anyMatch(x -> x.contains("kworker/R-shared")),
                () -> "the hang's cycle runs through the shared rescuer: " + explored.firstFinding().report().cycle());

        ValidationResult r = validate("chain-shared-no-workers", SCHEDULES);
        assertTrue(r.validatedSchedules() > 0 && r.validatedSchedules() < SCHEDULES,
                "some schedules complete, some hang: " + r.validatedSchedules() + " of " + SCHEDULES + " completed");
        assertEquals(1, r.cycles().size(), r::report);
        ValidationResult.Found f = r.cycles().get(0);
        assertEquals(List.of("(wq_completion)ksnaphd/vg-a-snap", "(wq_rescuer)shared"),
                f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
        assertTrue(f.cycle().links().stream().map(Dependency::describe).anyMatch(d -> d.contains("while holding (wq_rescuer)shared")),
                r::report); // kcopyd's item flushing ksnaphd
        assertEquals(Outcome.COMPLETED, new Explorer(List.of(s)).replay(s, s.variant("chain-shared-no-workers"), f.seed(),
                ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(), "the cycle came from schedule " + f.schedule() + ", which did not hang");
    }

    /** The fixed variants: one rescuer per queue, and the analyzer's plan with and without worker creation failing. */
    @ParameterizedTest
    @ValueSource(strings = {"own-rescuers", "plan", "plan-no-workers"})
    void theFixedVariantsHaveNoPotentialCycle(String variant) {
        ValidationResult r = validate(variant, 3);
        assertEquals(3, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }
}
