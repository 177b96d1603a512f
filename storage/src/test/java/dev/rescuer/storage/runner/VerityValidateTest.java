package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.ValidationResult;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The validator on dm-verity's fixed variants reports nothing. Two false positives it used to report
 * from the first completed schedule: a {@code submit_bio_wait} for a hash block on the disk below was
 * one class with the wait for a read through the verity device above it (now each driver's bio
 * completions are a class, as each gendisk's lockdep map is in the kernel), and a kverityd item
 * waiting for a hash buffer another kverityd item was reading looked like a wait on the queue's own
 * slot (now dm-bufio's reader requests the wake-up when it inserts the buffer, so its wake-up owes
 * nothing to the slot it held before). The 1,000-schedule runs are in docs/VALIDATOR.md.
 */
class VerityValidateTest {

    private static final int SCHEDULES = 6;

    private static ValidationResult validate(String stack, String variant) {
        StackScenario s = StackScenario.load(Path.of("..", "stacks", stack));
        return new Explorer(List.of(s)).validate(s, s.variant(variant), ExploreOptions.defaults().withSchedules(SCHEDULES));
    }

    @Test
    void snapshotOnVerityWithARescuerHasNoPotentialCycle() {
        ValidationResult r = validate("s4a-snapshot-on-verity.yaml", "verity-mem-reclaim");
        assertEquals(SCHEDULES, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }

    @Test
    void verityReadersWithARescuerHaveNoPotentialCycle() {
        ValidationResult r = validate("s4b-verity-readers.yaml", "mem-reclaim");
        assertEquals(SCHEDULES, r.validatedSchedules());
        assertEquals(List.of(), r.cycles(), r::report);
    }
}
