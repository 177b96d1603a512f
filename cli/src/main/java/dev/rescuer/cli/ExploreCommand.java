package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.ValidationResult;
import dev.rescuer.sim.explore.Variant;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code rescuer explore}: runs a scenario under many schedules until one hangs. */
@Command(name = "explore", mixinStandardHelpOptions = true,
        description = {"Run a scenario on the deterministic simulator under many schedules until one hangs (or all complete), "
                + "then print the hang report and the seed that replays it.",
                "With --validate, every schedule also runs under the validator, and every potential cycle recorded in a "
                        + "schedule that completed is printed.",
                "Exit code: 0 if every schedule completed (and, with --validate, no potential cycle was found), "
                        + "1 if a schedule hung or failed or a cycle was found, 2 on bad input."})
final class ExploreCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<scenario>", description = "reclaim-rescuer, or a stack file (stacks/*.yaml).")
    String scenario;

    @Option(names = "--variant", paramLabel = "V", description = "The scenario's variant (default: its first).")
    String variant;

    @CommandLine.Mixin
    SearchOptions search;

    @Option(names = "--schedules", paramLabel = "N", defaultValue = "100", description = "Schedules to run at most (default: ${DEFAULT-VALUE}).")
    int schedules;

    @Option(names = "--all", description = "Run every schedule even after a hang, and count the hangs.")
    boolean all;

    @Option(names = "--validate", description = "Run every schedule (implies --all) with the validator watching; print each potential "
            + "cycle found in the schedules that completed. In --json, adds validated_schedules and potential_cycles.")
    boolean validate;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--verbose", description = "Show the runtime's log (hung-task and watchdog reports as they fire).")
    boolean verbose;

    @CommandLine.Mixin
    HtmlOption html;

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        Scenario s = SimOptions.scenario(cmd, scenario);
        Variant v = SimOptions.variant(cmd, s, variant);
        ExploreOptions options = search.toOptions(cmd, schedules, !all && !validate);
        html.check(cmd);
        SimOptions.quietRuntime(verbose);
        Explorer explorer = new Explorer(SimOptions.catalogue(s));
        try (CliMonitor monitor = new CliMonitor(System.err, search.progress)) {
            monitor.begin(s.name() + " --variant " + v.name());
            ExploreResult r = explorer.explore(s, v, options, monitor);
            monitor.end();
            ValidationResult vr = validate && !monitor.stopRequested() ? explorer.validate(s, v, options) : null;
            return print(r, vr);
        }
    }

    private int print(ExploreResult r, ValidationResult vr) throws Exception {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>(r.toMap());
            if (vr != null) {
                m.putAll(vr.toMap());
            }
            System.out.println(SimOptions.json().writeValueAsString(m));
        } else {
            print(System.out, r, scenario);
            if (vr != null) {
                printValidation(System.out, vr);
            }
        }
        CommandLine cmd = spec.commandLine();
        boolean written = !html.wanted() || html.write(cmd, page(cmd, r, vr));
        return r.firstFinding() == null && (vr == null || vr.cycles().isEmpty()) && written ? 0 : 1;
    }

    /** The HTML page: the exploration's row, the validator's count, the first hang's section. */
    private HtmlReport page(CommandLine cmd, ExploreResult r, ValidationResult vr) {
        HtmlReport page = new HtmlReport("Rescuer explore: " + r.scenario() + " --variant " + r.variant(), HtmlOption.commandLine(cmd));
        page.table(List.of("scenario", "variant", "strategy", "depth", "base seed", "schedules", "hung or failed", "result",
                        "first-hang seed", "wall-clock time"),
                List.of(List.of(r.scenario(), r.variant(), r.options().strategy().cliName(), Integer.toString(r.options().depth()),
                        Long.toUnsignedString(r.options().seed()), Long.toString(r.schedulesRun()), Long.toString(r.findings()),
                        r.result(), r.firstFinding() == null ? "-" : r.firstFinding().seed().toString(),
                        String.format(java.util.Locale.ROOT, "%.1fs", r.elapsedNanos() / 1e9))),
                List.of(false));
        if (r.stopped()) {
            page.paragraph("Stopped by a signal after " + r.schedulesRun() + " of " + r.options().schedules()
                    + " schedules; what was found in them.");
        }
        if (vr != null) {
            page.paragraph("Validator: " + vr.validatedSchedules() + " of " + vr.schedulesRun() + " schedules completed and were "
                    + "validated; " + vr.cycles().size() + " potential cycle(s).");
        }
        if (r.firstFinding() != null) {
            page.hang(r.scenario() + " --variant " + r.variant() + ": the first " + r.result() + ", schedule "
                    + r.firstFinding().schedule(), VariantTable.replayCommand(scenario, r), r.firstFinding());
        }
        return page;
    }

    static void printValidation(PrintStream out, ValidationResult vr) {
        out.printf("%nvalidator: %d of %d schedules completed and were validated (%d hung or failed); %d potential cycle(s)%n",
                vr.validatedSchedules(), vr.schedulesRun(), vr.hangs(), vr.cycles().size());
        if (!vr.cycles().isEmpty()) {
            out.println();
            out.print(vr.report());
        }
    }

    static void print(PrintStream out, ExploreResult r, String cliName) {
        if (r.stopped()) {
            out.printf("stopped by a signal after %d of %d schedule(s); what was found in them:%n", r.schedulesRun(),
                    r.options().schedules());
        }
        String strategy = r.options().strategy() == StrategyKind.PCT
                ? "pct, depth " + r.options().depth() : r.options().strategy().cliName();
        out.printf("%s --variant %s: %s after %d schedule(s) (%s, base seed %s)%n", r.scenario(), r.variant(),
                r.result().toUpperCase(), r.schedulesRun(), strategy, Long.toUnsignedString(r.options().seed()));
        out.printf("%,.0f scheduling steps/s (%,.0f with a choice), %.1f schedules/s, %d thread(s), %.1f s%n",
                r.stepsPerSecond(), r.choicesPerSecond(), r.schedulesPerSecond(), r.options().parallel(), r.elapsedNanos() / 1e9);
        if (!r.options().stopAtFirstHang()) {
            out.printf("%d of %d schedules hung or failed%n", r.findings(), r.schedulesRun());
        }
        if (r.firstFinding() != null) {
            out.printf("first %s: schedule %d, seed %s, %d steps%n%n", r.result(), r.firstFinding().schedule(),
                    r.firstFinding().seed(), r.firstFinding().steps());
            if (r.firstFinding().report() != null) {
                out.println(r.firstFinding().report().toText());
            }
            out.printf("replay: ./rescuer replay %s --variant %s --seed %s%n", cliName, r.variant(), r.firstFinding().seed());
        }
    }
}
