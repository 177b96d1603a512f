package dev.rescuer.sim.explore;

import dev.rescuer.check.LockClass;
import dev.rescuer.sim.scenarios.Scenarios;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validator under the explorer: a variant known to hang is reported from a schedule that
 * completed; a fixed variant is reported clean across 1,000 schedules.
 */
class ValidateTest {

    private final Explorer explorer = new Explorer(Scenarios.all());

    private ValidationResult validate(String scenario, String variant, int schedules) {
        Scenario s = Scenarios.byName(scenario);
        Variant v = s.variants().stream().filter(x -> x.name().equals(variant)).findFirst().orElseThrow();
        return explorer.validate(s, v, ExploreOptions.defaults().withSchedules(schedules));
    }

    @Test
    void theCowThrottleCycleIsReportedFromAScheduleThatCompleted() {
        ValidationResult r = validate("cow-throttle", "semaphore-under-lock", 50);
        assertTrue(r.validatedSchedules() > 0, "some schedules complete");
        assertEquals(50, r.validatedSchedules() + r.hangs());
        assertEquals(1, r.cycles().size(), r::report);
        ValidationResult.Found f = r.cycles().get(0);
        assertEquals(List.of("&s->cow_count", "_origins_lock"),
                f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
        RunResult replay = explorer.replay(Scenarios.byName("cow-throttle"),
                Scenarios.byName("cow-throttle").variants().get(0), f.seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.COMPLETED, replay.outcome(), "the cycle came from a schedule that did not hang");
        String report = r.report();
        assertTrue(report.contains("waited on &s->cow_count (semaphore) while holding _origins_lock (read)"), report);
        assertTrue(report.contains("signalled &s->cow_count (semaphore) after acquiring _origins_lock (read)"), report);
    }

    @Test
    void validationIsDeterministicFromTheSeed() {
        ValidationResult a = validate("cow-throttle", "semaphore-under-lock", 30);
        ValidationResult b = validate("cow-throttle", "semaphore-under-lock", 30);
        assertEquals(a.toMap(), b.toMap());
    }

    @Test
    void theFixedCowThrottleIsCleanAcrossAThousandSchedules() {
        ValidationResult r = validate("cow-throttle", "wait-unlocked", 1000);
        assertEquals(1000, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }

    @Test
    void reclaimWithRescuersIsCleanAcrossAThousandSchedules() {
        ValidationResult r = validate("reclaim-rescuer", "mem-reclaim", 1000);
        assertEquals(1000, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
        assertFalse(r.toMap().isEmpty());
    }
}
