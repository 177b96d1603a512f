package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.sim.scenarios.Scenarios;
import dev.rescuer.storage.runner.StackScenario;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code rescuer demo}: the main job. Explores every variant of every scenario, and of every stack file
 * in {@code stacks/}, on the simulator with PCT and prints a table, then the first hang's report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The main job: explore every scenario variant on the deterministic simulator (PCT) and show which "
                + "hang, with the seed that replays each hang and the first hang's report.",
                "Variants expected to hang stop at their first hang (budget " + DemoCommand.HANG_BUDGET + " schedules); "
                + "variants expected to complete run " + DemoCommand.COMPLETE_BUDGET + " schedules (or a stack file's "
                + "explore.demo_schedules).",
                "Exit code: 0 if every variant behaved as expected, 1 otherwise."})
final class DemoCommand implements Callable<Integer> {

    static final int HANG_BUDGET = 100;
    static final int COMPLETE_BUDGET = 5000;

    @Option(names = "--json", description = "Print a JSON list of the explore objects.")
    boolean json;

    @Option(names = "--parallel", paramLabel = "P", defaultValue = "2",
            description = "Explorer threads; the results do not depend on it (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--verbose", description = "Show the runtime's log as hung-task and watchdog reports fire.")
    boolean verbose;

    @CommandLine.Mixin
    HtmlOption html;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ExploreOptions defaults;
        try {
            defaults = ExploreOptions.defaults().withParallel(parallel);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--" + e.getMessage());
        }
        html.check(spec.commandLine());
        SimOptions.quietRuntime(verbose);
        List<VariantTable.Row> rows = new ArrayList<>();
        List<Scenario> scenarios = new ArrayList<>(Scenarios.all());
        List<String> names = new ArrayList<>(scenarios.stream().map(Scenario::name).toList());
        for (var st : SimOptions.shippedStacks(spec.commandLine()).entrySet()) {
            scenarios.add(st.getValue());
            names.add(st.getKey());
        }
        for (int i = 0; i < scenarios.size(); i++) {
            for (Variant v : scenarios.get(i).variants()) {
                boolean hangs = v.expected() == Variant.Expectation.HANGS;
                int complete = scenarios.get(i) instanceof StackScenario st ? st.demoSchedules(COMPLETE_BUDGET) : COMPLETE_BUDGET;
                rows.add(new VariantTable.Row(scenarios.get(i), names.get(i), v,
                        defaults.withSchedules(hangs ? HANG_BUDGET : complete)));
            }
        }
        if (!json) {
            System.out.println("Rescuer demo: every scenario variant and every stack in stacks/ explored on the deterministic "
                    + "simulator (PCT, depth " + ExploreOptions.DEFAULT_DEPTH + ").");
            System.out.println();
        }
        HtmlReport page = html.wanted() ? new HtmlReport("Rescuer demo", HtmlOption.commandLine(spec.commandLine()))
                .paragraph("Every scenario variant and every stack in stacks/ explored on the deterministic simulator (PCT, depth "
                        + ExploreOptions.DEFAULT_DEPTH + ").") : null;
        boolean allOk;
        try (CliMonitor monitor = new CliMonitor(System.err, CliMonitor.Mode.AUTO)) {
            allOk = VariantTable.run(System.out, rows, json, false, monitor, page);
        }
        boolean written = page == null || html.write(spec.commandLine(), page);
        return allOk && written ? 0 : 1;
    }
}
