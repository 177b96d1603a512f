package dev.rescuer.cli;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.sim.scenarios.Scenarios;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rescuer simbench}: the simulator's own counters, for docs/PERFORMANCE.md. Throughput
 * (scheduling steps, steps with a choice and schedules per second) for every variant and strategy on
 * one and two explorer threads, then how many schedules PCT and the random walk need to reach the
 * first hang, as a median over base seeds.
 */
@Command(name = "simbench", mixinStandardHelpOptions = true,
        description = {"Measure the simulator with its own counters: steps and schedules per second for every scenario "
                + "variant and strategy on 1 and 2 explorer threads, and schedules until the first hang, PCT against "
                + "the random walk, median over --seeds base seeds. About 2 minutes on 2 cores."})
final class SimBenchCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "20",
            description = "Base seeds for the schedules-to-first-hang medians (default: ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--budget", paramLabel = "N", defaultValue = "500",
            description = "Schedules at most per search for the first hang (default: ${DEFAULT-VALUE}).")
    int budget;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (seeds < 1 || budget < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    (seeds < 1 ? "--seeds" : "--budget") + ": must be at least 1");
        }
        SimOptions.quietRuntime(false);
        Explorer explorer = new Explorer(Scenarios.all());
        List<Map<String, Object>> throughput = new ArrayList<>();
        List<Map<String, Object>> firstHang = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            for (Variant v : s.variants()) {
                boolean hangs = v.expected() == Variant.Expectation.HANGS;
                int n = hangs ? 60 : 2000;
                for (StrategyKind k : StrategyKind.values()) {
                    ExploreOptions o = ExploreOptions.defaults().withStrategy(k).withSchedules(n).runningAll();
                    explorer.explore(s, v, o.withSchedules(n / 2)); // warm up the JIT
                    ExploreResult one = explorer.explore(s, v, o);
                    ExploreResult two = explorer.explore(s, v, o.withParallel(2));
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("scenario", s.name());
                    m.put("variant", v.name());
                    m.put("strategy", k.cliName());
                    m.put("schedules", n);
                    m.put("hangs", one.findings());
                    m.put("steps_per_second_1", Math.round(one.stepsPerSecond()));
                    m.put("choices_per_second_1", Math.round(one.choicesPerSecond()));
                    m.put("schedules_per_second_1", round1(one.schedulesPerSecond()));
                    m.put("steps_per_second_2", Math.round(two.stepsPerSecond()));
                    m.put("choices_per_second_2", Math.round(two.choicesPerSecond()));
                    m.put("schedules_per_second_2", round1(two.schedulesPerSecond()));
                    m.put("parallel_speedup", Math.round(two.schedulesPerSecond() / one.schedulesPerSecond() * 100) / 100.0);
                    throughput.add(m);
                    if (!json) {
                        System.out.printf("%-16s %-21s %-6s %4d runs, %3d hang(s): %,9.0f steps/s, %,9.0f with a choice, "
                                        + "%6.1f schedules/s; 2 threads %6.1f (x%.2f)%n",
                                s.name(), v.name(), k.cliName(), n, one.findings(), one.stepsPerSecond(),
                                one.choicesPerSecond(), one.schedulesPerSecond(), two.schedulesPerSecond(),
                                two.schedulesPerSecond() / one.schedulesPerSecond());
                    }
                }
                if (!hangs) {
                    continue;
                }
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("scenario", s.name());
                h.put("variant", v.name());
                for (StrategyKind k : StrategyKind.values()) {
                    long[] runs = new long[seeds];
                    int found = 0;
                    for (int seed = 1; seed <= seeds; seed++) {
                        ExploreResult r = explorer.explore(s, v,
                                ExploreOptions.defaults().withStrategy(k).withSchedules(budget).withSeed(seed));
                        runs[seed - 1] = r.firstFinding() == null ? budget + 1 : r.schedulesRun();
                        found += r.firstFinding() == null ? 0 : 1;
                    }
                    Arrays.sort(runs);
                    double median = seeds % 2 == 1 ? runs[seeds / 2] : (runs[seeds / 2 - 1] + runs[seeds / 2]) / 2.0;
                    h.put(k.cliName() + "_median_schedules", median);
                    h.put(k.cliName() + "_max_schedules", runs[seeds - 1]);
                    h.put(k.cliName() + "_found", found + "/" + seeds);
                }
                firstHang.add(h);
                if (!json) {
                    System.out.printf("  schedules to the first hang over %d seeds: pct median %s (max %s, found %s), "
                                    + "random median %s (max %s, found %s)%n", seeds,
                            h.get("pct_median_schedules"), h.get("pct_max_schedules"), h.get("pct_found"),
                            h.get("random_median_schedules"), h.get("random_max_schedules"), h.get("random_found"));
                }
            }
        }
        if (json) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
            root.put("cores", Runtime.getRuntime().availableProcessors());
            root.put("throughput", throughput);
            root.put("schedules_to_first_hang", firstHang);
            System.out.println(SimOptions.json().writeValueAsString(root));
        }
        return 0;
    }

    private static double round1(double d) {
        return Math.round(d * 10) / 10.0;
    }
}
