package dev.rescuer.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The suite's rows that JMH does not measure: the peak threads of the blocking mix and of the
 * pipeline, and the rescuer-thread rows ({@link RescuerThreadsBench}). {@link BenchSuite} runs
 * {@link #main} in a JVM of its own on the chosen launcher (so these rows, like JMH's, come from the
 * JDK asked for, with its virtual threads where it has them), and reads the rows back from its output.
 */
public final class DirectMeasurements {

    /** The prefix of each result line on standard output. */
    static final String ROW = "ROW\t";
    /** Batches each thread count runs. */
    static final int BATCHES = 200;

    private DirectMeasurements() {
    }

    /** Measures and prints each row as {@link #ROW} and {@link BenchResult#toLine()}. */
    public static void main(String[] args) {
        for (BenchResult r : measure()) {
            System.out.println(ROW + r.toLine());
        }
    }

    /** Every direct row, in the suite's order. */
    static List<BenchResult> measure() {
        List<BenchResult> out = new ArrayList<>();
        out.add(blockingMixThreads());
        out.add(pipelineThreads());
        rescuerThreadRows(out);
        return out;
    }

    /** Peak worker threads each executor used to run {@link #BATCHES} batches of the blocking mix. */
    static BenchResult blockingMixThreads() {
        Map<String, Double> peers = new LinkedHashMap<>();
        double ours = 0;
        for (String name : offered("rescuer", "tpe2", "tpe8", "tpe64", "fjp", Peer.VTHREAD)) {
            int peak = 0;
            try (Peer p = Peer.create(name, true)) {
                WorkqueueBench.Producer prod = new WorkqueueBench.Producer();
                WorkqueueBench.Mix mix = new WorkqueueBench.Mix();
                mix.p = p;
                mix.exec = p.executor();
                for (int i = 0; i < BATCHES; i++) {
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
        return BenchResult.lowerIsBetter("blocking-mix-threads", "peak worker threads (virtual threads for vthread)", ours, peers);
    }

    /** Peak threads each peer ran {@link #BATCHES} batches of the pipeline on. */
    static BenchResult pipelineThreads() {
        Map<String, Double> peers = new LinkedHashMap<>();
        double ours = 0;
        for (String name : offered("rescuer", "tpe-per-stage", "tpe-shared", "tpe-unbounded", "fjp", Peer.VTHREAD)) {
            int peak = PipelineBench.peakThreads(name, BATCHES);
            if (name.equals("rescuer")) {
                ours = peak;
            } else {
                peers.put(name, (double) peak);
            }
        }
        return BenchResult.lowerIsBetter("pipeline-threads",
                "peak threads, " + PipelineBench.IN_FLIGHT + " requests in flight (Rescuer: workers and its 3 rescuers; vthread: virtual threads)",
                ours, peers);
    }

    /** {@code names} without the virtual-thread peer where this JDK lacks it. */
    private static List<String> offered(String... names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (!n.equals(Peer.VTHREAD) || Peer.virtualThreadsOffered()) {
                out.add(n);
            }
        }
        return out;
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
        String what = RescuerThreadsBench.STACKS * RescuerThreadsBench.LAYERS.size() + " MEM_RECLAIM queues in " + RescuerThreadsBench.STACKS + " four-layer stacks";
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
