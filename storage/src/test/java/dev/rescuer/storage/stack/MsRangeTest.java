package dev.rescuer.storage.stack;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.rescuer.storage.stack.StackTexts.parse;
import static dev.rescuer.storage.stack.StackTexts.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code start_ms} as a number or a range {@code lo..hi}: binding, located refusals, and the draw. */
class MsRangeTest {

    private static final String FILE = """
            name: t
            devices:
              - {kind: disk, name: sda, sectors: 1024}
            workload:
              - {kind: writer, name: db, device: sda, start_ms: 185..215}
            variants:
              - {name: a, expected: complete}
            """;

    /** The accepted file's (or variant's) {@code start_ms} of its one workload entry, as the entry binds it. */
    private static MsRange startMs(StackFile f, String variant) {
        return MsRange.parse(f.stack(variant).spec().workload().get(0).get("start_ms"));
    }

    @Test
    void aRangeAndANumberBind() {
        assertEquals(new MsRange(185, 215), startMs(parse(FILE), "a"));
        assertEquals(MsRange.of(200), startMs(parse(FILE.replace("185..215", "200")), "a"));
        assertEquals(new MsRange(0.5, 1.25), startMs(parse(FILE.replace("185..215", "0.5 .. 1.25")), "a"));
        assertEquals(MsRange.of(3), startMs(parse(FILE.replace("185..215", "3..3")), "a"));
    }

    @Test
    void aVariantCanSetARangeOrANumber() {
        String v = FILE.replace("{name: a, expected: complete}", "{name: a, expected: complete, set: {workload.db.start_ms: 200}}\n"
                + "  - {name: b, expected: complete, set: {workload.db.start_ms: 10..20}}");
        StackFile f = parse(v);
        assertEquals(MsRange.of(200), startMs(f, "a"));
        assertEquals(new MsRange(10, 20), startMs(f, "b"));
    }

    @Test
    void whatIsNeitherANumberNorARangeIsRefusedAtTheKeyWithFileLineAndColumn() {
        assertEquals("t.yaml:5:43: workload[0].start_ms: expected milliseconds as a number or a range lo..hi (150..250), got '185..x'",
                refused(FILE.replace("185..215", "185..x")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: expected milliseconds as a number or a range lo..hi (150..250), got '185-215'",
                refused(FILE.replace("185..215", "185-215")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: expected milliseconds as a number or a range lo..hi (150..250), got [185,215]",
                refused(FILE.replace("185..215", "[185, 215]")));
    }

    @Test
    void negativeBoundsAndEmptyRangesAreRefusedAtTheKey() {
        assertEquals("t.yaml:5:43: workload[0].start_ms: must not be negative, got -5..10", refused(FILE.replace("185..215", "-5..10")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: must not be negative, got -1", refused(FILE.replace("185..215", "-1")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: the range 215..185 is empty: its lower bound is above its upper bound",
                refused(FILE.replace("185..215", "215..185")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: must be a finite number of milliseconds, got Infinity",
                refused(FILE.replace("185..215", "1e400")));
    }

    @Test
    void aBoundTooLargeForTheClockIsRefusedAtTheKeyNotWhenTheRunDraws() {
        // 0..10^13 ms used to be accepted and fail in the run (the draw's bound overflowed a long)
        assertEquals("t.yaml:5:43: workload[0].start_ms: must be at most 86400000 ms (one day of the run's virtual clock), got 0..10000000000000",
                refused(FILE.replace("185..215", "0..10000000000000")));
        assertEquals("t.yaml:5:43: workload[0].start_ms: must be at most 86400000 ms (one day of the run's virtual clock), got 10000000000000",
                refused(FILE.replace("185..215", "10000000000000")));
        // a day and a millisecond: past what a run can idle before the livelock bound
        assertEquals("t.yaml:5:43: workload[0].start_ms: must be at most 86400000 ms (one day of the run's virtual clock), got 86400001",
                refused(FILE.replace("185..215", "86400001")));
        // the largest accepted range still draws within its bounds
        long drawn = new MsRange(0, MsRange.MAX_MS).drawNanos(new SplittableRandom(1));
        assertTrue(drawn >= 0 && drawn <= MsRange.MAX_MS * 1_000_000, "drawn " + drawn);
    }

    @Test
    void aVariantsBadRangeIsNamedAtItsSetKey() {
        String v = FILE.replace("{name: a, expected: complete}", "{name: a, expected: complete, set: {workload.db.start_ms: 9..1}}");
        assertEquals("t.yaml:7:41: variant a: variants[0].set.workload.db.start_ms: the range 9..1 is empty: its lower bound is above its upper bound",
                refused(v));
    }

    @Test
    void aRangeDrawsWithinItsBoundsAndReplaysFromTheSeed() {
        MsRange r = new MsRange(185, 215);
        SplittableRandom a = new SplittableRandom(42);
        SplittableRandom b = new SplittableRandom(42);
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < 1000; i++) {
            long ns = r.drawNanos(a);
            assertEquals(ns, r.drawNanos(b), "the same stream draws the same values");
            assertTrue(ns >= 185_000_000L && ns <= 215_000_000L, "drawn " + ns);
            min = Math.min(min, ns);
            max = Math.max(max, ns);
        }
        assertTrue(min < 190_000_000L && max > 210_000_000L, "the draws spread over the range: " + min + ".." + max);
    }

    @Test
    void aFixedValueDrawsNothing() {
        SplittableRandom used = new SplittableRandom(7);
        assertEquals(200_000_000L, MsRange.of(200).drawNanos(used));
        assertFalse(MsRange.of(200).isRange());
        assertEquals(new SplittableRandom(7).nextLong(), used.nextLong(), "the stream was not touched");
    }
}
