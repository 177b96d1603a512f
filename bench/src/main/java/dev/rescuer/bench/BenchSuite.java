package dev.rescuer.bench;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs every benchmark in one go and turns JMH's results into comparisons: {@code ./rescuer bench}.
 *
 * <p>Beyond JMH it measures two counts directly: the peak number of worker threads each executor
 * used for the blocking mix, and what 1,000 {@code MEM_RECLAIM} queues in 250 independent four-layer
 * stacks cost in rescuer threads under the analyzer's plan against one per queue ({@link RescuerThreadsBench}).
 */
public final class BenchSuite {

    /** Queues created for the rescuer-thread count. */
    public static final int IDLE_RECLAIM_QUEUES = 1000;

    private BenchSuite() {
    }

    /**
     * Runs the suite.
     *
     * @param quick one warm-up and two measurement iterations of one second each, instead of three and five
     * @param verbose whether JMH prints its progress
     */
    public static List<BenchResult> run(boolean quick, boolean verbose) throws RunnerException {
        ChainedOptionsBuilder opts = new OptionsBuilder()
                .include(WorkqueueBench.class.getName())
                .include(PlatformBench.class.getName())
                .forks(1)
                .warmupIterations(quick ? 1 : 3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(quick ? 2 : 5)
                .measurementTime(TimeValue.seconds(1))
                .verbosity(verbose ? VerboseMode.NORMAL : VerboseMode.SILENT);
        Collection<RunResult> runs = new Runner(opts.build()).run();
        return summarize(runs);
    }

    static List<BenchResult> summarize(Collection<RunResult> runs) {
        Map<String, Map<String, RunResult>> byBench = new LinkedHashMap<>();
        for (RunResult r : runs) {
            String method = r.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            String peer = r.getParams().getParam("peer");
            byBench.computeIfAbsent(method, k -> new LinkedHashMap<>()).put(peer == null ? method : peer, r);
        }
        List<BenchResult> out = new ArrayList<>();
        throughput(out, byBench, "tiny1", "tiny-throughput-1", "items/s, 1 producer");
        throughput(out, byBench, "tiny2", "tiny-throughput-2", "items/s, 2 producers");
        throughput(out, byBench, "blockingMix", "blocking-mix", "items/s, half waiting on an event");
        out.add(blockingMixThreads());
        Map<String, RunResult> lat = byBench.get("queueLatency");
        if (lat != null && lat.containsKey("rescuer")) {
            for (double pct : new double[] {50, 99}) {
                Map<String, Double> peers = new LinkedHashMap<>();
                lat.forEach((peer, r) -> {
                    if (!peer.equals("rescuer")) {
                        peers.put(peer, r.getPrimaryResult().getStatistics().getPercentile(pct));
                    }
                });
                out.add(BenchResult.lowerIsBetter("queue-latency-p" + (int) pct, "us from queue to start",
                        lat.get("rescuer").getPrimaryResult().getStatistics().getPercentile(pct), peers));
            }
        }
        rescuerThreadRows(out);
        pair(out, byBench, "mutexLockUnlock", "mutex-uncontended", Map.of(
                "reentrantlock", "reentrantLockLockUnlock", "synchronized", "synchronizedBlock"));
        pair(out, byBench, "mutexContended2", "mutex-contended-2", Map.of(
                "reentrantlock", "reentrantLockContended2"));
        pair(out, byBench, "mutexContended4", "mutex-contended-4", Map.of(
                "reentrantlock", "reentrantLockContended4"));
        pair(out, byBench, "rwsemReadLockUnlock", "rwsem-read-uncontended", Map.of(
                "reentrantreadwritelock", "reentrantReadWriteLockReadLockUnlock"));
        pair(out, byBench, "platformWakeAwaitRoundTrip", "wake-await-round-trip", Map.of(
                "locksupport", "lockSupportParkUnparkRoundTrip"));
        return out;
    }

    private static void throughput(List<BenchResult> out, Map<String, Map<String, RunResult>> byBench, String method,
                                   String name, String unit) {
        Map<String, RunResult> m = byBench.get(method);
        if (m == null || !m.containsKey("rescuer")) {
            return;
        }
        Map<String, Double> peers = new LinkedHashMap<>();
        m.forEach((peer, r) -> {
            if (!peer.equals("rescuer")) {
                peers.put(peer, r.getPrimaryResult().getScore());
            }
        });
        out.add(BenchResult.higherIsBetter(name, unit, m.get("rescuer").getPrimaryResult().getScore(), peers));
    }

    private static void pair(List<BenchResult> out, Map<String, Map<String, RunResult>> byBench, String ours, String name,
                             Map<String, String> peerMethods) {
        Map<String, RunResult> o = byBench.get(ours);
        if (o == null) {
            return;
        }
        Map<String, Double> peers = new LinkedHashMap<>();
        peerMethods.forEach((peer, method) -> {
            Map<String, RunResult> p = byBench.get(method);
            if (p != null) {
                peers.put(peer, p.values().iterator().next().getPrimaryResult().getScore());
            }
        });
        out.add(BenchResult.lowerIsBetter(name, "ns/op", o.values().iterator().next().getPrimaryResult().getScore(), peers));
    }

    /** Peak worker threads each executor used to run 200 batches of the blocking mix. */
    static BenchResult blockingMixThreads() {
        Map<String, Double> peers = new LinkedHashMap<>();
        double ours = 0;
        for (String name : new String[] {"rescuer", "tpe2", "tpe8", "tpe64", "fjp"}) {
            int peak = 0;
            try (Peer p = Peer.create(name)) {
                WorkqueueBench.Producer prod = new WorkqueueBench.Producer();
                WorkqueueBench.Mix mix = new WorkqueueBench.Mix();
                mix.p = p;
                mix.exec = p.executor();
                for (int i = 0; i < 200; i++) {
                    new WorkqueueBench().blockingMix(mix, prod);
                    peak = Math.max(peak, p.threads());
                }
            }
            if (name.equals("rescuer")) {
                ours = peak;
            } else {
                peers.put(name, (double) peak);
            }
        }
        return BenchResult.lowerIsBetter("blocking-mix-threads", "peak worker threads", ours, peers);
    }

    /**
     * The rescuer rows (issue 13): 1,000 MEM_RECLAIM queues in 250 independent four-layer stacks,
     * under the analyzer's plan (Rescuer) against one rescuer per queue (the kernel), and the
     * analyzer's time on a 10,000-queue graph.
     */
    static void rescuerThreadRows(List<BenchResult> out) {
        var graph = RescuerThreadsBench.graph(RescuerThreadsBench.STACKS);
        RescuerThreadsBench.Cost kernel = RescuerThreadsBench.measure(graph, Map.of());
        RescuerThreadsBench.Cost plan = RescuerThreadsBench.measure(graph, RescuerThreadsBench.plan(graph));
        String what = IDLE_RECLAIM_QUEUES + " MEM_RECLAIM queues in " + RescuerThreadsBench.STACKS + " four-layer stacks";
        out.add(BenchResult.lowerIsBetter("rescuer-threads", "rescuer threads for " + what,
                plan.rescuerThreads(), Map.of("kernel", (double) kernel.rescuerThreads())));
        out.add(BenchResult.lowerIsBetter("rescuer-thread-pages", "model pages their stacks cost, " + what,
                plan.pages(), Map.of("kernel", (double) kernel.pages())));
        out.add(BenchResult.lowerIsBetter("rescuer-jvm-threads", "JVM threads started on RealPlatform, " + what,
                plan.jvmThreads(), Map.of("kernel", (double) kernel.jvmThreads())));
        out.add(BenchResult.lowerIsBetter("rescuer-rss-kib", "resident memory growth (KiB) on RealPlatform, " + what,
                Math.max(1, plan.rssKib()), Map.of("kernel", (double) Math.max(1, kernel.rssKib()))));
        out.add(BenchResult.lowerIsBetter("analyze-10k-queues", "ms to analyze a 10,000-queue graph (best of 5)",
                RescuerThreadsBench.analyzeMillis(2_500, 5), Map.of()));
    }
}
