package dev.rescuer.core.platform;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link RealPlatform#RealPlatform(Duration)}: a bound on the spin before a park, or none at all. */
class RealPlatformMaxSpinTest {

    private static final boolean SPINS = Runtime.getRuntime().availableProcessors() > 1;

    @Test
    void zeroMeansThatNoTaskSpins() {
        try (RealPlatform p = new RealPlatform(Duration.ZERO)) {
            assertNull(p.spinBudgetOf(p.currentTask()));
            Task started = p.startThread("no-spin", () -> { });
            assertNull(p.spinBudgetOf(started));
            p.join(started);
        }
    }

    @Test
    void aBoundIsEveryTasksLongestSpinAndItsProbe() {
        assumeTrue(SPINS, "no task spins on one CPU");
        try (RealPlatform p = new RealPlatform(Duration.ofNanos(10_000))) {
            SpinBudget b = p.spinBudgetOf(p.currentTask());
            assertEquals(10_000, b.next(), "it starts at the bound");
            b.spun(true);
            assertEquals(10_000, b.next(), "a success does not pass the bound");
            while (b.nanos() != 0) {
                b.spun(false);
            }
            long probe = 0;
            for (int i = 0; i < SpinBudget.PROBE_EVERY && probe == 0; i++) {
                probe = b.next();
            }
            assertEquals(10_000, probe, "the probe is cut to the bound (the default probe is " + SpinBudget.PROBE_NANOS + " ns)");
        }
    }

    @Test
    void theDefaultIsTheLongestSpin() {
        assumeTrue(SPINS, "no task spins on one CPU");
        try (RealPlatform p = new RealPlatform()) {
            assertEquals(SpinBudget.MAX_NANOS, p.spinBudgetOf(p.currentTask()).next());
        }
    }

    @Test
    void aBoundOutsideTheRangeIsRefusedWithTheValue() {
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got -1000 ns",
                assertThrows(IllegalArgumentException.class, () -> new RealPlatform(Duration.ofNanos(-1000))).getMessage());
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got 2499 ns",
                assertThrows(IllegalArgumentException.class, () -> new RealPlatform(Duration.ofNanos(2499))).getMessage());
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got 80001 ns",
                assertThrows(IllegalArgumentException.class, () -> new RealPlatform(Duration.ofNanos(80_001))).getMessage());
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got PT8760H",
                assertThrows(IllegalArgumentException.class, () -> new RealPlatform(Duration.ofDays(365))).getMessage());
        assertThrows(NullPointerException.class, () -> new RealPlatform((Duration) null));
    }

    @Test
    void theEdgesOfTheRangeAreAccepted() {
        new RealPlatform(Duration.ofNanos(SpinBudget.MIN_NANOS)).close();
        new RealPlatform(Duration.ofNanos(SpinBudget.MAX_NANOS)).close();
    }
}
