package dev.rescuer.cli;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.sim.scenarios.Scenarios;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rescuer demo}: the main job. Explores every variant of every scenario on the simulator with
 * PCT and prints a table, then the first hang's report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The main job: explore every scenario variant on the deterministic simulator (PCT) and show which "
                + "hang, with the seed that replays each hang and the first hang's report.",
                "Variants expected to hang stop at their first hang (budget " + DemoCommand.HANG_BUDGET + " schedules); "
                + "variants expected to complete run " + DemoCommand.COMPLETE_BUDGET + " schedules.",
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
        SimOptions.quietRuntime(verbose);
        Explorer explorer = new Explorer(Scenarios.all());
        List<ExploreResult> results = new ArrayList<>();
        List<Boolean> asExpected = new ArrayList<>();
        if (!json) {
            System.out.println("Rescuer demo: every scenario variant explored on the deterministic simulator (PCT, depth "
                    + ExploreOptions.DEFAULT_DEPTH + ").");
            System.out.println();
            System.out.printf("%-16s %-21s %-9s %9s  %-6s %-20s %7s%n", "scenario", "variant", "expected", "schedules",
                    "result", "first-hang seed", "time");
        }
        for (Scenario s : Scenarios.all()) {
            for (Variant v : s.variants()) {
                boolean hangs = v.expected() == Variant.Expectation.HANGS;
                ExploreOptions o = defaults.withSchedules(hangs ? HANG_BUDGET : COMPLETE_BUDGET);
                ExploreResult r = explorer.explore(s, v, o);
                results.add(r);
                boolean ok = hangs ? "hang".equals(r.result()) : "ok".equals(r.result());
                asExpected.add(ok);
                if (!json) {
                    System.out.printf("%-16s %-21s %-9s %9d  %-6s %-20s %6.1fs%s%n", s.name(), v.name(),
                            hangs ? "hang" : "complete", r.schedulesRun(), r.result(),
                            r.firstFinding() == null ? "-" : r.firstFinding().seed().toString(), r.elapsedNanos() / 1e9,
                            ok ? "" : "   <- NOT AS EXPECTED");
                }
            }
        }
        boolean allOk = !asExpected.contains(false);
        if (json) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (ExploreResult r : results) {
                list.add(r.toMap());
            }
            System.out.println(SimOptions.json().writeValueAsString(list));
        } else {
            long passed = asExpected.stream().filter(b -> b).count();
            System.out.printf("%n%d of %d variants behaved as expected.%n", passed, asExpected.size());
            for (ExploreResult r : results) {
                if (r.firstFinding() != null && r.firstFinding().report() != null) {
                    System.out.printf("%nThe first hang: %s --variant %s, schedule %d (replay: ./rescuer replay %s --variant %s --seed %s)%n%n",
                            r.scenario(), r.variant(), r.firstFinding().schedule(), r.scenario(), r.variant(), r.firstFinding().seed());
                    System.out.println(r.firstFinding().report().toText());
                    break;
                }
            }
        }
        return allOk ? 0 : 1;
    }
}
