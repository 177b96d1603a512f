package dev.rescuer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rescuer.bench.BenchResult;
import dev.rescuer.bench.BenchSuite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code rescuer bench}: the JMH suite against the JDK's peers, as ratios. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the benchmarks (JMH) against ForkJoinPool, ThreadPoolExecutor and the JDK's locks, "
                + "and print each result with its ratios (higher is better for Rescuer).")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Fewer iterations; finishes in under 3 minutes on 2 cores.")
    boolean quick;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Option(names = "--verbose", description = "Show JMH's progress.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        List<BenchResult> results = BenchSuite.run(quick, verbose);
        if (json) {
            System.out.println(toJson(results));
        } else {
            printTable(results);
        }
        return 0;
    }

    static String toJson(List<BenchResult> results) throws Exception {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("virtual_threads", "not available on this JDK (Java " + Runtime.version().feature() + "); needs 21+");
        ArrayNode arr = root.putArray("results");
        for (BenchResult r : results) {
            ObjectNode n = arr.addObject();
            n.put("name", r.name());
            n.put("unit", r.unit());
            n.put("rescuer", r.rescuer());
            ObjectNode peers = n.putObject("peers");
            r.peers().forEach(peers::put);
            ObjectNode ratio = n.putObject("ratio");
            r.ratio().forEach(ratio::put);
        }
        return om.writeValueAsString(root);
    }

    private static void printTable(List<BenchResult> results) {
        System.out.printf("JDK %s, %d cores%n%n", Runtime.version(), Runtime.getRuntime().availableProcessors());
        for (BenchResult r : results) {
            System.out.printf("%-24s %s%n", r.name(), r.unit());
            System.out.printf("  %-24s %,14.2f%n", "rescuer", r.rescuer());
            for (Map.Entry<String, Double> e : r.peers().entrySet()) {
                System.out.printf("  %-24s %,14.2f   ratio %.2f%n", e.getKey(), e.getValue(), r.ratio().get(e.getKey()));
            }
        }
    }
}
