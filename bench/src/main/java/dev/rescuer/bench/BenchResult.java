package dev.rescuer.bench;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One comparison: Rescuer's number, each peer's, and the ratios, oriented so that higher is better
 * for Rescuer: {@code rescuer / peer} for throughputs, {@code peer / rescuer} for times and counts.
 *
 * @param name the comparison, for example {@code "tiny-throughput-1"}
 * @param unit the unit of the numbers, and which way the ratio goes
 * @param rescuer Rescuer's number
 * @param peers each peer's number, by peer name (in name order, so tables and JSON list the peers alike in every run)
 * @param ratio each ratio, by peer name (in name order)
 */
public record BenchResult(String name, String unit, double rescuer, Map<String, Double> peers, Map<String, Double> ratio) {

    /** Keeps {@code peers} and {@code ratio} in name order, whatever order the maps given have. */
    public BenchResult {
        peers = inNameOrder(peers);
        ratio = inNameOrder(ratio);
    }

    /** A throughput comparison: ratio = rescuer / peer. */
    static BenchResult higherIsBetter(String name, String unit, double rescuer, Map<String, Double> peers) {
        Map<String, Double> r = new HashMap<>();
        peers.forEach((k, v) -> r.put(k, v == 0 ? Double.NaN : rescuer / v));
        return new BenchResult(name, unit, rescuer, peers, r);
    }

    /**
     * One line, tab-separated, that {@link #fromLine} reads back: how {@link DirectMeasurements}
     * hands its rows from the measuring JVM to the suite. Peer names hold no {@code ;} or {@code =}.
     */
    String toLine() {
        return String.join("\t", name, unit, Double.toString(rescuer), encode(peers), encode(ratio));
    }

    /** The result {@link #toLine} wrote. */
    static BenchResult fromLine(String line) {
        String[] f = line.split("\t", -1);
        if (f.length != 5) {
            throw new IllegalArgumentException("not a result line (" + f.length + " fields, expected 5): " + line);
        }
        return new BenchResult(f[0], f[1], Double.parseDouble(f[2]), decode(f[3]), decode(f[4]));
    }

    private static String encode(Map<String, Double> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> b.append(b.length() == 0 ? "" : ";").append(k).append('=').append(v));
        return b.toString();
    }

    private static Map<String, Double> decode(String s) {
        Map<String, Double> m = new HashMap<>();
        for (String kv : s.isEmpty() ? new String[0] : s.split(";")) {
            int eq = kv.indexOf('=');
            m.put(kv.substring(0, eq), Double.parseDouble(kv.substring(eq + 1)));
        }
        return m;
    }

    /** A time or count comparison: ratio = peer / rescuer. */
    static BenchResult lowerIsBetter(String name, String unit, double rescuer, Map<String, Double> peers) {
        Map<String, Double> r = new HashMap<>();
        peers.forEach((k, v) -> r.put(k, rescuer == 0 ? Double.NaN : v / rescuer));
        return new BenchResult(name, unit + " (lower is better; ratio = peer / rescuer)", rescuer, peers, r);
    }

    private static Map<String, Double> inNameOrder(Map<String, Double> m) {
        return Collections.unmodifiableMap(new TreeMap<>(m));
    }
}
