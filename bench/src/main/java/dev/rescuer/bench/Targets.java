package dev.rescuer.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The targets of issue 11 ("Runtime speed"), judged against one run's {@link BenchResult}s. Every
 * target is a least ratio in the results' orientation (higher is better for Rescuer): "≥ 2×
 * ThreadPoolExecutor" is a ratio of at least 2, "at most 1.1× ReentrantLock's time" one of at least
 * {@code 1 / 1.1}. A ratio meets its threshold when it reaches it to within {@link #TOLERANCE}, so a
 * ratio computed as exactly the threshold is not lost to rounding.
 */
public final class Targets {

    /** Absolute slack on the ratio for floating-point rounding. */
    static final double TOLERANCE = 1e-9;
    /** The peer name meaning "the best peer of the run" (highest throughput). */
    static final String BEST = "best";

    /** One target before the run: benchmark, peer (or {@link #BEST}), words, least ratio (NaN: recorded only). */
    private record Spec(String benchmark, String peer, String goal, double threshold) {
    }

    private static final List<Spec> SPECS = List.of(
            new Spec("tiny-throughput-1", "fjp", "≥ 1.0× ForkJoinPool's items/s", 1.0),
            new Spec("tiny-throughput-1", "tpe", "≥ 2× ThreadPoolExecutor's items/s", 2.0),
            new Spec("tiny-throughput-2", "fjp", "≥ 1.0× ForkJoinPool's items/s", 1.0),
            new Spec("tiny-throughput-2", "tpe", "≥ 2× ThreadPoolExecutor's items/s", 2.0),
            new Spec("tiny-throughput-parked-1", "fjp", "recorded: against ForkJoinPool's items/s", Double.NaN),
            new Spec("tiny-throughput-parked-2", "fjp", "recorded: against ForkJoinPool's items/s", Double.NaN),
            new Spec("blocking-mix", BEST, "≥ the best peer's items/s", 1.0),
            new Spec("blocking-mix-threads", "fjp", "peak threads ≤ ForkJoinPool's", 1.0),
            new Spec("queue-latency-p50", "fjp", "≤ ForkJoinPool's", 1.0),
            new Spec("queue-latency-p99", "fjp", "≤ ForkJoinPool's", 1.0),
            new Spec("mutex-uncontended", "reentrantlock", "time ≤ 1.1× ReentrantLock's", 1 / 1.1),
            new Spec("rwsem-read-uncontended", "reentrantreadwritelock", "time ≤ 1.1× ReentrantReadWriteLock's", 1 / 1.1),
            new Spec("mutex-contended-2", "reentrantlock", "≥ 0.9× ReentrantLock's ops/s", 0.9),
            new Spec("mutex-contended-4", "reentrantlock", "≥ 0.9× ReentrantLock's ops/s", 0.9),
            new Spec("rwsem-write-contended-2", "reentrantreadwritelock", "recorded: against ReentrantReadWriteLock's ops/s", Double.NaN),
            new Spec("rwsem-write-contended-4", "reentrantreadwritelock", "recorded: against ReentrantReadWriteLock's ops/s", Double.NaN),
            new Spec("rwsem-mixed-contended-4", "reentrantreadwritelock", "recorded: against ReentrantReadWriteLock's ops/s", Double.NaN),
            new Spec("wake-await-round-trip", "locksupport", "time ≤ 1.05× LockSupport's", 1 / 1.05),
            new Spec("pipeline", BEST, "recorded: against the best peer's requests/s", Double.NaN),
            new Spec("pipeline-threads", "fjp", "recorded: peak threads against ForkJoinPool's", Double.NaN));

    private Targets() {
    }

    /** Each target, in the order, judged against {@code results}. */
    public static List<Target> evaluate(List<BenchResult> results) {
        List<Target> out = new ArrayList<>();
        for (Spec s : SPECS) {
            BenchResult r = results.stream().filter(b -> b.name().equals(s.benchmark())).findFirst().orElse(null);
            String peer = r == null ? null : s.peer().equals(BEST) ? bestPeer(r) : s.peer();
            double ratio = peer == null || !r.ratio().containsKey(peer) ? Double.NaN : r.ratio().get(peer);
            Target.Status status;
            if (Double.isNaN(ratio)) {
                status = Target.Status.NOT_MEASURED;
            } else if (Double.isNaN(s.threshold())) {
                status = Target.Status.RECORDED;
            } else {
                status = ratio >= s.threshold() - TOLERANCE ? Target.Status.MET : Target.Status.MISSED;
            }
            out.add(new Target(s.benchmark(), peer != null && r.ratio().containsKey(peer) ? peer : null,
                    s.goal(), s.threshold(), ratio, status));
        }
        return out;
    }

    /** The peer with the lowest ratio, i.e. the best number against Rescuer's; null when there are none. */
    static String bestPeer(BenchResult r) {
        String best = null;
        for (Map.Entry<String, Double> e : r.ratio().entrySet()) {
            if (!Double.isNaN(e.getValue()) && (best == null || e.getValue() < r.ratio().get(best))) {
                best = e.getKey();
            }
        }
        return best;
    }
}
