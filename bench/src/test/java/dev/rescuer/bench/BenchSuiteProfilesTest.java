package dev.rescuer.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.ScalarDerivativeResult;
import org.openjdk.jmh.results.ScalarResult;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchSuiteProfilesTest {

    @Test
    void sampleTimePercentilesAreNotProfiles() {
        assertFalse(BenchSuite.fromProfiler(new ScalarDerivativeResult("p0.50", 20.8, "us/op", AggregationPolicy.AVG)));
    }

    @Test
    void aGcProfilerNumberIsAProfile() {
        assertTrue(BenchSuite.fromProfiler(new ScalarResult("gc.alloc.rate.norm", 77.0, "B/op", AggregationPolicy.AVG)));
    }
}
