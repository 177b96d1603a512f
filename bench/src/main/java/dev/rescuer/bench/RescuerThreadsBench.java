package dev.rescuer.bench;

import dev.rescuer.analyze.Analysis;
import dev.rescuer.analyze.Analyzer;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.deps.WaitGraph;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What sharing rescuers saves (issue 13): 1,000 {@code MEM_RECLAIM} queues in 250 independent
 * four-layer stacks (crypt-like on snapshot-like on verity-like on linear-like queues), created on
 * {@code RealPlatform} once with one rescuer per queue (upstream) and once under the analyzer's plan.
 * For each: rescuer threads, the pages their stacks cost in the model's page budget, the real JVM
 * threads started and the process's resident memory growth. Also the analyzer's own time on a
 * 10,000-queue graph.
 */
public final class RescuerThreadsBench {

    /** Independent stacks. */
    public static final int STACKS = 250;
    /** Queues per stack, bottom to top. */
    public static final List<String> LAYERS = List.of("linear", "kverityd", "kcopyd", "kcryptd");

    private RescuerThreadsBench() {
    }

    /**
     * Prints the analyzer's time on a 10,000-queue graph (2,500 stacks, best of 5) and the thread
     * counts of {@link #STACKS} stacks with and without the plan:
     * {@code java -cp bench/target/rescuer-bench.jar dev.rescuer.bench.RescuerThreadsBench}.
     */
    public static void main(String[] args) {
        analyzeMillis(2_500, 5); // warm up
        System.out.printf("analyze-10k-queues: %.1f ms (best of 5)%n", analyzeMillis(2_500, 5));
        WaitGraph g = graph(STACKS);
        Cost kernel = measure(g, Map.of());
        Cost plan = measure(g, plan(g));
        System.out.printf("rescuer threads for %d queues: %d with the plan, %d with one per queue%n",
                STACKS * LAYERS.size(), plan.rescuerThreads(), kernel.rescuerThreads());
    }

    /** What one way of creating the queues cost. */
    public record Cost(int rescuerThreads, long pages, int jvmThreads, long rssKib) {
    }

    /** The declared graph of {@code stacks} independent stacks of {@link #LAYERS}, each under its own disk. */
    public static WaitGraph graph(int stacks) {
        WaitGraph g = new WaitGraph();
        for (int s = 0; s < stacks; s++) {
            String above = "disk" + s;
            g.node(above, WaitGraph.NodeKind.DEVICE);
            for (int l = LAYERS.size() - 1; l >= 0; l--) {
                String q = LAYERS.get(l) + "/" + s;
                g.queue(q, true, null);
                g.waitsOn(above, q, "layer");
                above = q;
            }
        }
        return g;
    }

    /** Creates the queues of {@code graph} with {@code domains} (queue to domain; empty for upstream) and measures. */
    public static Cost measure(WaitGraph graph, Map<String, String> domains) {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(1 << 22).workqueues(WorkqueueConfig.defaults()).build()) {
            int jvm0 = ManagementFactory.getThreadMXBean().getThreadCount();
            long rss0 = rssKib();
            long pages0 = sys.pages().stats().usedPages();
            domains.forEach(sys.workqueues()::presetRescuerDomain);
            for (WaitGraph.Node n : graph.nodes()) {
                if (n.kind() == WaitGraph.NodeKind.QUEUE) {
                    sys.workqueues().create(n.name(), 0, WqFlag.MEM_RECLAIM);
                }
            }
            return new Cost(sys.workqueues().rescuerThreads(), sys.pages().stats().usedPages() - pages0,
                    ManagementFactory.getThreadMXBean().getThreadCount() - jvm0, rssKib() - rss0);
        }
    }

    /** The analyzer's plan for {@code graph}. */
    public static Map<String, String> plan(WaitGraph graph) {
        return Analyzer.analyze(graph, "bench").assignment();
    }

    /** Milliseconds the analyzer takes on {@code stacks} stacks of {@link #LAYERS} (best of {@code rounds}). */
    public static double analyzeMillis(int stacks, int rounds) {
        WaitGraph g = graph(stacks);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            Analysis a = Analyzer.analyze(g, "bench");
            long t1 = System.nanoTime();
            if (a.minRescuers() != LAYERS.size()) {
                throw new IllegalStateException("analyzer found " + a.minRescuers() + " domains, expected " + LAYERS.size());
            }
            best = Math.min(best, (t1 - t0) / 1e6);
        }
        return best;
    }

    /** The process's resident set in KiB ({@code /proc/self/status} VmRSS), or 0 where there is none. */
    static long rssKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            return 0;
        }
        return 0;
    }
}
