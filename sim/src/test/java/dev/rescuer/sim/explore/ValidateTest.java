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

    private final Explorer explorer = new Explorer(List.of(Scenarios.byName("reclaim-rescuer"), Abba.SCENARIO));

    private ValidationResult validate(String scenario, String variant, int schedules) {
        Scenario s = scenario.equals("abba") ? Abba.SCENARIO : Scenarios.byName(scenario);
        Variant v = s.variants().stream().filter(x -> x.name().equals(variant)).findFirst().orElseThrow();
        return explorer.validate(s, v, ExploreOptions.defaults().withSchedules(schedules));
    }

    @Test
    void theAbbaCycleIsReportedFromAScheduleThatCompleted() {
        ValidationResult r = validate("abba", "only", 50);
        assertTrue(r.validatedSchedules() > 0, "some schedules complete");
        assertTrue(r.hangs() > 0, "some schedules hang");
        assertEquals(50, r.validatedSchedules() + r.hangs());
        assertEquals(1, r.cycles().size(), r::report);
        ValidationResult.Found f = r.cycles().get(0);
        assertEquals(List.of("A", "B"), f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
        RunResult replay = explorer.replay(Abba.SCENARIO, InlineScenario.ONLY, f.seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.COMPLETED, replay.outcome(), "the cycle came from a schedule that did not hang");
    }

    @Test
    void validationIsDeterministicFromTheSeed() {
        ValidationResult a = validate("abba", "only", 30);
        ValidationResult b = validate("abba", "only", 30);
        assertEquals(a.toMap(), b.toMap());
    }

    @Test
    void reclaimWithoutRescuersIsReportedFromAScheduleThatCompleted() {
        assertReclaimCycleFromACompletedSchedule("no-rescuer", List.of("fs_reclaim", "page-writeback"));
    }

    /**
     * {@code shared-queue}: the rescuer's writeback item waits for an end-io item behind it on the same
     * rescued queue. The writeback item starts waiting while the bio is on the device; the cycle is
     * learned at the signal, from the end-io item its owner names. Before that rule: no cycle.
     */
    @Test
    void writebackAndEndioSharingOneRescuedQueueIsReportedFromAScheduleThatCompleted() {
        assertReclaimCycleFromACompletedSchedule("shared-queue", List.of("(wq_completion)reclaim", "bio-end-io"));
    }

    /**
     * Over 10 schedules of {@code reclaim-rescuer}'s {@code variant}, some complete (slow writers: the
     * flusher grew the pool) and some hang (fast writers); exactly one cycle, of {@code classes}, is
     * reported, and replaying the seed it was found at (not given here) completes.
     */
    private void assertReclaimCycleFromACompletedSchedule(String variant, List<String> classes) {
        ValidationResult r = validate("reclaim-rescuer", variant, 10);
        assertTrue(r.validatedSchedules() > 0, "some schedules complete (slow writers: the flusher grew the pool)");
        assertTrue(r.hangs() > 0, "some schedules hang (fast writers)");
        assertEquals(1, r.cycles().size(), r::report);
        ValidationResult.Found f = r.cycles().get(0);
        assertEquals(classes,
                f.cycle().classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()), r::report);
        Scenario s = Scenarios.byName("reclaim-rescuer");
        Variant v = s.variants().stream().filter(x -> x.name().equals(variant)).findFirst().orElseThrow();
        assertEquals(Outcome.COMPLETED, explorer.replay(s, v, f.seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND).outcome(),
                "the cycle came from a schedule that did not hang");
    }

    @Test
    void reclaimWithRescuersIsCleanAcrossAThousandSchedules() {
        ValidationResult r = validate("reclaim-rescuer", "mem-reclaim", 1000);
        assertEquals(1000, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
        assertFalse(r.toMap().isEmpty());
    }
}
