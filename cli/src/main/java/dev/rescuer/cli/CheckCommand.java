package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.runner.StackScenario;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code rescuer check STACK.yaml}: checks a stack file, builds it on the simulator and explores each
 * variant (or the one {@code --variant} names), then prints the table and the first hang's report.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Check a stack file and explore each of its variants on the deterministic simulator; print the table "
                + "(expected against found) and the first hang's report with the seed that replays it.",
                "Without --schedules, variants expected to hang stop at their first hang (budget " + DemoCommand.HANG_BUDGET
                + " schedules) and variants expected to complete run " + DemoCommand.COMPLETE_BUDGET + " schedules.",
                "Exit code: 0 if every variant behaved as expected, 1 otherwise, 2 on bad input (the stack file's "
                + "errors name its line and column)."})
final class CheckCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STACK.yaml", description = "The stack file.")
    Path stack;

    @Option(names = "--variant", paramLabel = "V", description = "Explore only this variant.")
    String variant;

    @CommandLine.Mixin
    SearchOptions search;

    @Option(names = "--schedules", paramLabel = "N",
            description = "Schedules per variant (default: " + DemoCommand.HANG_BUDGET + " for a variant expected to hang, "
                    + DemoCommand.COMPLETE_BUDGET + " for one expected to complete).")
    Integer schedules;

    @Option(names = "--validate", description = "Also run each variant's schedules under the validator and print every potential "
            + "cycle found in the schedules that completed; in --json, each variant's object gains validated_schedules and "
            + "potential_cycles.")
    boolean validate;

    @Option(names = "--json", description = "Print a JSON list, one object per variant.")
    boolean json;

    @Option(names = "--verbose", description = "Show the runtime's log.")
    boolean verbose;

    @CommandLine.Mixin
    HtmlOption html;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        html.check(cmd);
        StackScenario s = SimOptions.stack(cmd, stack);
        List<Variant> variants = variant == null ? s.variants() : List.of(SimOptions.variant(cmd, s, variant));
        List<VariantTable.Row> rows = new ArrayList<>();
        for (Variant v : variants) {
            int n = schedules != null ? schedules
                    : v.expected() == Variant.Expectation.HANGS ? DemoCommand.HANG_BUDGET : DemoCommand.COMPLETE_BUDGET;
            rows.add(new VariantTable.Row(s, stack.toString(), v, search.toOptions(cmd, n, true)));
        }
        SimOptions.quietRuntime(verbose);
        HtmlReport page = html.wanted() ? new HtmlReport("Rescuer check: " + stack, HtmlOption.commandLine(cmd)) : null;
        boolean ok;
        try (CliMonitor monitor = new CliMonitor(System.err, search.progress)) {
            ok = VariantTable.run(System.out, rows, json, validate, monitor, page);
        }
        boolean written = page == null || html.write(cmd, page);
        return ok && written ? 0 : 1;
    }
}
