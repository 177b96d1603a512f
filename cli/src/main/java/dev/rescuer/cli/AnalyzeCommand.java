package dev.rescuer.cli;

import dev.rescuer.analyze.Analysis;
import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.analyze.Analyzer;
import dev.rescuer.analyze.DeclaredGraph;
import dev.rescuer.analyze.Dot;
import dev.rescuer.analyze.StackGraphs;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import dev.rescuer.storage.stack.StackFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code rescuer analyze FILE}: the dependency graph of a stack file (as its targets declare it) or
 * of a declared-graph YAML file, analyzed: which queues need a rescuer and why, violations, and the
 * least rescuer plan with the chain that proves it minimal.
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = {"Analyze the declared dependency graph of a stack file, or of a graph file (queues and 'waits' edges, for "
                + "code outside the model): which queues need a rescuer (with the path from reclaim or I/O), layering violations "
                + "(a queue or user-space task without a rescuer on a reclaim path, a reclaim worker flushing a queue without one, "
                + "a cycle), and the least set of rescuer domains: queues on one chain never share, so the least number is the "
                + "longest chain's length.",
                "Exit code: 0 without violations, 1 with violations, 2 on bad input."})
final class AnalyzeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "A stack file, or a graph file (top-level 'queues' and 'waits').")
    Path file;

    @Option(names = "--variant", paramLabel = "V", description = "The stack file's variant to build (default: its first).")
    String variant;

    @Option(names = "--json", description = "Print JSON: queues, needs_rescuer, violations, longest_chain, min_rescuers, plan.domains.")
    boolean json;

    @Option(names = "--dot", description = "Print the graph in Graphviz form, queues labelled with their planned domain.")
    boolean dot;

    @Option(names = "--emit-variant", paramLabel = "NAME",
            description = "Print the plan as a stack-file variant called NAME (list items for 'variants:'), which sets system.rescuer_domains.")
    String emitVariant;

    @Option(names = "--verbose", description = "Show the runtime's log while a stack is built.")
    boolean verbose;

    @CommandLine.Mixin
    HtmlOption html;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        html.check(cmd);
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(cmd, file + ": no such file");
        }
        WaitGraph graph;
        String source;
        try {
            if (DeclaredGraph.looksLike(file)) {
                graph = DeclaredGraph.load(file);
                source = file.toString();
            } else {
                StackFile sf = StackFile.load(file, Kinds.builtIn());
                if (variant != null && sf.variants().stream().noneMatch(v -> v.name().equals(variant))) {
                    throw new CommandLine.ParameterException(cmd, "--variant: unknown variant '" + variant + "' of stack "
                            + sf.name() + "; variants: " + String.join(", ", sf.variants().stream().map(StackFile.VariantInfo::name).toList()));
                }
                SimOptions.quietRuntime(verbose);
                StackGraphs.Built built = StackGraphs.declared(sf, variant);
                graph = built.graph();
                source = file + " (variant " + (variant == null ? sf.variants().get(0).name() : variant)
                        + ", built by one simulator run: " + built.outcome() + ")";
            }
        } catch (StackFileException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
        Analysis a = Analyzer.analyze(graph, source);
        if (emitVariant != null) {
            if (!a.hasPlan()) {
                cmd.getErr().println("rescuer: no plan to emit: " + a.violations().get(0).message() + ": "
                        + String.join(" -> ", a.violations().get(0).path()));
                return 1;
            }
            System.out.print(a.toVariantYaml(emitVariant));
        } else if (dot) {
            System.out.print(Dot.render(graph, a));
        } else if (json) {
            System.out.println(SimOptions.json().writeValueAsString(a.toMap()));
        } else {
            System.out.print(a.toText());
        }
        boolean written = !html.wanted() || html.write(cmd, new HtmlReport("Rescuer analyze: " + file, HtmlOption.commandLine(cmd))
                .paragraph("Source: " + source).analysis(graph, a));
        return a.violations().isEmpty() && written ? 0 : 1;
    }
}
