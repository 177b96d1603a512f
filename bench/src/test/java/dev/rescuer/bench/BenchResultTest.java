package dev.rescuer.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A result lists its peers and ratios in name order however it was made, so every table and JSON lists them alike. */
class BenchResultTest {

    private static Map<String, Double> zThenA(double z, double a) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("tpe", z);
        m.put("fjp", a);
        return m;
    }

    @Test
    void theConstructorPutsPeersAndRatiosInNameOrder() {
        BenchResult r = new BenchResult("tiny-throughput-1", "items/s", 1, zThenA(2, 4), zThenA(0.5, 0.25));
        assertEquals(List.of("fjp", "tpe"), List.copyOf(r.peers().keySet()));
        assertEquals(List.of("fjp", "tpe"), List.copyOf(r.ratio().keySet()));
    }

    @Test
    void aLineReadBackIsInNameOrderAndEqualToWhatWasWritten() {
        BenchResult read = BenchResult.fromLine("tiny-throughput-1\titems/s\t1.0\ttpe=2.0;fjp=4.0\ttpe=0.5;fjp=0.25");
        assertEquals(List.of("fjp", "tpe"), List.copyOf(read.peers().keySet()));
        assertEquals(List.of("fjp", "tpe"), List.copyOf(read.ratio().keySet()));
        BenchResult made = BenchResult.higherIsBetter("tiny-throughput-1", "items/s", 1, zThenA(2, 4));
        assertEquals(made, read);
        assertEquals(made, BenchResult.fromLine(made.toLine()));
    }
}
