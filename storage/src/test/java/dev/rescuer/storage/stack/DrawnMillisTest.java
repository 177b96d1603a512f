package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code start_ms} as a number or a range {@code lo..hi} drawn per run: parsing, located refusals, draws. */
class DrawnMillisTest {

    private static final String STACK = """
            name: t
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: filesystem, name: data, device: sda, options: rw, files: [{name: old, blocks: 4}]}
            workload:
              - {kind: file-reader, name: r, fs: data, file: old, start_ms: START}
            variants:
              - {name: a, expected: complete, set: {devices.data.options: rw}}
            """;

    private static StackFile parse(String start) {
        return StackFile.parse("t.yaml", "t", STACK.replace("START", start), Kinds.builtIn());
    }

    private static String refused(String start) {
        return assertThrows(StackFileException.class, () -> parse(start)).getMessage();
    }

    @Test
    void aNumberOrARangeIsAccepted() {
        assertEquals("0..400", parse("0..400").stack("a").spec().workload().get(0).get("start_ms").asText());
        assertEquals(12.5, parse("12.5").stack("a").spec().workload().get(0).get("start_ms").asDouble());
        assertEquals(new DrawnMillis(10, 20), DrawnMillis.parse(" 10 .. 20 "));
        assertEquals(new DrawnMillis(0, 400), DrawnMillis.parse("0..400"));
        assertFalse(DrawnMillis.parse("7..7").isRange());
    }

    @Test
    void aBadRangeIsRefusedAtItsKeyWithWhatIsWrong() {
        assertEquals("t.yaml:6:55: workload[0].start_ms: range '10..5': the lower bound 10 is above the upper bound 5",
                refused("10..5"));
        assertEquals("t.yaml:6:55: workload[0].start_ms: range '-5..10': the lower bound must be a finite number >= 0, got -5",
                refused("\"-5..10\""));
        assertEquals("t.yaml:6:55: workload[0].start_ms: range '0..soon': the upper bound 'soon' is not a number",
                refused("0..soon"));
        assertEquals("t.yaml:6:55: workload[0].start_ms: expected a number of milliseconds or a range lo..hi (e.g. 0..400), got 'later'",
                refused("later"));
        assertEquals("t.yaml:6:55: workload[0].start_ms: expected a number of milliseconds or a range lo..hi (e.g. 0..400), got a list",
                refused("[0, 400]"));
        assertEquals("t.yaml:6:55: workload[0].start_ms: must not be negative, got -3.0", refused("-3"));
        assertEquals("t.yaml:6:55: workload[0].start_ms: must be a finite number of milliseconds, got Infinity", refused("1e400"));
    }

    @Test
    void aRangeDrawsUniformlyInsideItAndAFixedValueDrawsNothing() {
        DrawnMillis range = new DrawnMillis(100, 300);
        SplittableRandom a = new SplittableRandom(42);
        SplittableRandom b = new SplittableRandom(42);
        double lowest = Double.MAX_VALUE;
        double highest = 0;
        for (int i = 0; i < 1000; i++) {
            double v = range.draw(a);
            assertEquals(v, range.draw(b), "the same stream draws the same values");
            assertTrue(v >= 100 && v < 300, "drawn " + v);
            lowest = Math.min(lowest, v);
            highest = Math.max(highest, v);
        }
        assertTrue(lowest < 110 && highest > 290, "spread over the range: " + lowest + ".." + highest);
        assertNotEquals(range.draw(new SplittableRandom(1)), range.draw(new SplittableRandom(2)));

        SplittableRandom untouched = new SplittableRandom(7);
        SplittableRandom used = new SplittableRandom(7);
        assertEquals(250.0, DrawnMillis.of(250).draw(used));
        assertEquals(untouched.nextLong(), used.nextLong(), "a fixed start_ms leaves the run's stream as it was");
    }
}
