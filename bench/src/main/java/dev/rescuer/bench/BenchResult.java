package dev.rescuer.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One comparison: Rescuer's number, each peer's, and the ratios, oriented so that higher is better
 * for Rescuer: {@code rescuer / peer} for throughputs, {@code peer / rescuer} for times and counts.
 *
 * @param name the comparison, for example {@code "tiny-throughput-1"}
 * @param unit the unit of the numbers, and which way the ratio goes
 * @param rescuer Rescuer's number
 * @param peers each peer's number, by peer name
 * @param ratio each ratio, by peer name
 */
public record BenchResult(String name, String unit, double rescuer, Map<String, Double> peers, Map<String, Double> ratio) {

    /** A throughput comparison: ratio = rescuer / peer. */
    static BenchResult higherIsBetter(String name, String unit, double rescuer, Map<String, Double> peers) {
        Map<String, Double> r = new LinkedHashMap<>();
        peers.forEach((k, v) -> r.put(k, v == 0 ? Double.NaN : rescuer / v));
        return new BenchResult(name, unit, rescuer, Map.copyOf(peers), r);
    }

    /** A time or count comparison: ratio = peer / rescuer. */
    static BenchResult lowerIsBetter(String name, String unit, double rescuer, Map<String, Double> peers) {
        Map<String, Double> r = new LinkedHashMap<>();
        peers.forEach((k, v) -> r.put(k, rescuer == 0 ? Double.NaN : v / rescuer));
        return new BenchResult(name, unit + " (lower is better; ratio = peer / rescuer)", rescuer, Map.copyOf(peers), r);
    }
}
