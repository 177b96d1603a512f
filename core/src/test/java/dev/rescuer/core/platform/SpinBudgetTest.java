package dev.rescuer.core.platform;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link SpinBudget}: the adaptive rule (double on success, halve on failure, off below the minimum, probes with back-off). */
class SpinBudgetTest {

    @Test
    void aSuccessfulSpinDoublesTheBudgetFromAtLeastTheProbeLengthUpToTheMaximum() {
        SpinBudget b = new SpinBudget(4 * SpinBudget.MIN_NANOS);
        assertEquals(4 * SpinBudget.MIN_NANOS, b.next());
        b.spun(true);
        assertEquals(Math.min(SpinBudget.MAX_NANOS, 2 * Math.max(SpinBudget.PROBE_NANOS, 4 * SpinBudget.MIN_NANOS)), b.next());
        for (int i = 0; i < 10; i++) {
            b.spun(true);
        }
        assertEquals(SpinBudget.MAX_NANOS, b.next());
    }

    @Test
    void aFailedSpinHalvesTheBudgetAndBelowTheMinimumSpinningStops() {
        SpinBudget b = new SpinBudget(4 * SpinBudget.MIN_NANOS);
        b.spun(false);
        assertEquals(2 * SpinBudget.MIN_NANOS, b.next());
        b.spun(false);
        assertEquals(SpinBudget.MIN_NANOS, b.next());
        b.spun(false);
        assertEquals(0, b.nanos());
        assertEquals(0, b.next(), "off: the next park does not spin");
    }

    @Test
    void withSpinningOffAProbeComesAfterProbeEveryParksAndEachFailedProbeDoublesTheGap() {
        SpinBudget b = new SpinBudget(0);
        int gap = SpinBudget.PROBE_EVERY;
        for (int round = 0; round < 6; round++) {
            assertEquals(gap - 1, parksWithoutSpinning(b), "parks before probe " + round);
            b.spun(false); // the probe failed
            gap = Math.min(SpinBudget.PROBE_EVERY_MAX, gap * 2);
        }
        assertEquals(SpinBudget.PROBE_EVERY_MAX, gap, "the gap is capped");
        assertEquals(SpinBudget.PROBE_EVERY_MAX - 1, parksWithoutSpinning(b));
        b.spun(true); // the probe succeeded: spinning is on again, and the gap starts over
        long on = Math.min(SpinBudget.MAX_NANOS, 2 * SpinBudget.PROBE_NANOS);
        assertEquals(on, b.next());
        for (long expect = on / 2; expect >= SpinBudget.MIN_NANOS; expect /= 2) {
            b.spun(false);
            assertEquals(expect, b.next(), "each failure halves it");
        }
        b.spun(false);
        assertEquals(0, b.nanos(), "off again once halved below the minimum");
        assertEquals(SpinBudget.PROBE_EVERY - 1, parksWithoutSpinning(b), "the gap started over");
    }

    /** Calls {@link SpinBudget#next()} until it allows a spin, which must be a probe; the parks before it. */
    private static int parksWithoutSpinning(SpinBudget b) {
        int parks = 0;
        long n;
        while ((n = b.next()) == 0) {
            parks++;
            if (parks > SpinBudget.PROBE_EVERY_MAX) {
                throw new AssertionError("no probe within " + SpinBudget.PROBE_EVERY_MAX + " parks");
            }
        }
        assertEquals(SpinBudget.PROBE_NANOS, n, "a spin while off is a probe");
        return parks;
    }

    /**
     * The case the limits are sized for: a ping-pong whose spins have run out, so that each side
     * parks and its partner's answer comes one futex wake-up later (20 to 30 µs on the machine
     * measured in docs/PERFORMANCE.md; 30 µs here). The first probe catches that answer and turns
     * spinning back on, and from then on both sides spin and neither pays a wake-up.
     */
    @Test
    void aPartnerWhoseAnswerTakesOneFutexWakeUpIsCaughtByTheFirstProbe() {
        long answer = 30_000;
        SpinBudget b = new SpinBudget(0);
        int parks = 0;
        for (int round = 0; round < 200; round++) {
            long spin = b.next();
            if (spin >= answer) {
                b.spun(true);
            } else {
                if (spin != 0) {
                    b.spun(false);
                }
                parks++;
            }
        }
        assertEquals(SpinBudget.PROBE_EVERY - 1, parks, "only the parks before the first probe");
        assertEquals(SpinBudget.MAX_NANOS, b.nanos());
    }

    @Test
    void aBudgetOutsideTheRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SpinBudget(SpinBudget.MAX_NANOS + 1));
        assertEquals("spin budget must be within 0..80000 ns, got 80001", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SpinBudget(-1));
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got 2499 ns",
                assertThrows(IllegalArgumentException.class, () -> new SpinBudget(0, SpinBudget.MIN_NANOS - 1)).getMessage());
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got 80001 ns",
                assertThrows(IllegalArgumentException.class, () -> new SpinBudget(0, SpinBudget.MAX_NANOS + 1)).getMessage());
        assertEquals("spin budget must be within 0..10000 ns, got 10001",
                assertThrows(IllegalArgumentException.class, () -> new SpinBudget(10_001, 10_000)).getMessage());
    }

    @Test
    void aLowerLongestSpinBoundsTheGrowthAndCutsTheProbe() {
        long max = SpinBudget.PROBE_NANOS / 4;
        SpinBudget b = new SpinBudget(SpinBudget.MIN_NANOS, max);
        for (int i = 0; i < 10; i++) {
            b.spun(true);
        }
        assertEquals(max, b.next());
        SpinBudget off = new SpinBudget(0, max);
        long probe = 0;
        for (int i = 0; i < SpinBudget.PROBE_EVERY && probe == 0; i++) {
            probe = off.next();
        }
        assertEquals(max, probe);
    }
}
