package dev.rescuer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rescuer.bench.BenchResult;
import dev.rescuer.bench.BenchSuite;
import dev.rescuer.bench.Jvm;
import dev.rescuer.bench.Target;
import dev.rescuer.bench.Targets;
import dev.rescuer.sim.explore.ExploreResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rescuer bench}: the JMH suite against the JDK's peers, as ratios, then issue 11's targets
 * met or missed. The JSON ({@code --json}, definition {@code bench} of docs/json/rescuer.schema.json)
 * is versioned like the other commands' (docs/JSON.md).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Run the benchmarks (JMH) against ForkJoinPool, ThreadPoolExecutor, virtual threads (Java 21+) and the JDK's locks, "
                + "print each result with its ratios (higher is better for Rescuer), then each runtime-speed target met or missed.")
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Fewer iterations (1 warm-up, 2 measured, of 1 s each).")
    boolean quick;

    @Option(names = "--json", description = "Print one JSON object instead of tables (docs/JSON.md).")
    boolean json;

    @Option(names = "--verbose", description = "Show JMH's progress.")
    boolean verbose;

    @Option(names = "--jvm", paramLabel = "JAVA",
            description = "The java executable JMH's forks and the direct measurements run on, e.g. "
                    + "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java (Java 17 or later; 21 or later adds the virtual-thread peer). "
                    + "Default: the java running this command.")
    Path jvm;

    @Option(names = "--profile", paramLabel = "PROFILER",
            description = "Attach a JMH profiler to every benchmark: stack (where the threads are, by method) or gc "
                    + "(allocation per operation); options may follow a colon, e.g. stack:lines=5. Repeatable.")
    List<String> profilers = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        BenchSuite.Options options = options();
        BenchSuite.Run run;
        PrintStream stdout = System.out;
        if (json) {
            // JMH relays what its forks print (a JDK's warnings, for one) to standard output: keep it
            // off the JSON by sending it to standard error while the suite runs.
            System.setOut(System.err);
        }
        try {
            run = BenchSuite.run(options);
        } finally {
            System.setOut(stdout);
        }
        List<Target> targets = Targets.evaluate(run.results());
        if (json) {
            System.out.println(toJson(run, targets, options.profilers()));
        } else {
            printTables(System.out, run, targets);
        }
        return 0;
    }

    /** The options, checked: a bad {@code --jvm} or {@code --profile} is a usage error (exit 2) naming the problem. */
    BenchSuite.Options options() {
        Jvm target;
        try {
            target = jvm == null ? Jvm.current() : Jvm.probe(jvm);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--jvm: " + e.getMessage());
        }
        try {
            return new BenchSuite.Options(quick, verbose, target, profilers);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--" + e.getMessage());
        }
    }

    /** The JSON's {@code virtual_threads} and the table header's words: offered, or not offered by this JDK (its release). */
    static String virtualThreads(Jvm jvm) {
        return jvm.offersVirtualThreads() ? "offered (Java " + jvm.feature() + ")" : "not offered by this JDK (" + jvm.feature() + ")";
    }

    static String toJson(BenchSuite.Run run, List<Target> targets, List<String> profilers) throws Exception {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("json_version", ExploreResult.JSON_VERSION);
        root.put("jdk", run.jvm().describe());
        root.put("java_version", run.jvm().feature());
        root.put("jvm", run.jvm().java().toString());
        root.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("virtual_threads", virtualThreads(run.jvm()));
        ArrayNode profs = root.putArray("profilers");
        profilers.forEach(profs::add);
        ArrayNode arr = root.putArray("results");
        for (BenchResult r : run.results()) {
            ObjectNode n = arr.addObject();
            n.put("name", r.name());
            n.put("unit", r.unit());
            putNumber(n, "rescuer", r.rescuer());
            ObjectNode peers = n.putObject("peers");
            r.peers().forEach((k, v) -> putNumber(peers, k, v));
            ObjectNode ratio = n.putObject("ratio");
            r.ratio().forEach((k, v) -> putNumber(ratio, k, v));
        }
        ArrayNode ts = root.putArray("targets");
        for (Target t : targets) {
            ObjectNode n = ts.addObject();
            n.put("benchmark", t.benchmark());
            n.put("peer", t.peer());
            n.put("goal", t.goal());
            putNumber(n, "threshold", t.threshold());
            putNumber(n, "ratio", t.ratio());
            n.put("status", t.status().label());
        }
        ArrayNode ps = root.putArray("profiles");
        for (BenchSuite.Profile p : run.profiles()) {
            ObjectNode n = ps.addObject();
            n.put("benchmark", p.benchmark());
            n.put("peer", p.peer());
            n.put("label", p.label());
            putNumber(n, "score", p.score());
            n.put("unit", p.unit());
            n.put("text", p.text());
        }
        return om.writeValueAsString(root);
    }

    /** {@code NaN} (not measured, no threshold, or a ratio over zero) as JSON {@code null}. */
    private static void putNumber(ObjectNode n, String field, double v) {
        if (Double.isNaN(v)) {
            n.putNull(field);
        } else {
            n.put(field, v);
        }
    }

    static void printTables(PrintStream out, BenchSuite.Run run, List<Target> targets) {
        out.printf("JDK %s (%s), %d cores; virtual threads: %s%n%n", run.jvm().describe(), run.jvm().java(),
                Runtime.getRuntime().availableProcessors(), virtualThreads(run.jvm()));
        for (BenchResult r : run.results()) {
            out.printf("%-24s %s%n", r.name(), r.unit());
            out.printf("  %-24s %,14.2f%n", "rescuer", r.rescuer());
            for (Map.Entry<String, Double> e : r.peers().entrySet()) {
                out.printf("  %-24s %,14.2f   ratio %.2f%n", e.getKey(), e.getValue(), r.ratio().get(e.getKey()));
            }
        }
        out.printf("%nTargets (issue 11; ratio: higher is better for Rescuer)%n");
        out.printf("%-24s %-24s %-42s %8s %8s  %s%n", "benchmark", "against", "target", "ratio", "needs", "");
        for (Target t : targets) {
            out.printf("%-24s %-24s %-42s %8s %8s  %s%n", t.benchmark(), t.peer() == null ? "-" : t.peer(), t.goal(),
                    Double.isNaN(t.ratio()) ? "-" : String.format("%.2f", t.ratio()),
                    Double.isNaN(t.threshold()) ? "-" : String.format("≥ %.2f", t.threshold()), t.status().label());
        }
        if (!run.profiles().isEmpty()) {
            out.printf("%nProfiles%n");
            for (BenchSuite.Profile p : run.profiles()) {
                out.printf("%s%s %s: %s%n", p.benchmark(), p.peer() == null ? "" : " [" + p.peer() + "]", p.label(),
                        p.text() != null ? "" : String.format("%,.2f %s", p.score(), p.unit()));
                if (p.text() != null) {
                    out.println(p.text().stripTrailing().indent(4).stripTrailing());
                }
            }
        }
    }
}
