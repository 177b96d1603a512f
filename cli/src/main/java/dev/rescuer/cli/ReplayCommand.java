package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.Variant;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code rescuer replay}: re-runs one schedule exactly from its seed. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Re-run one schedule of a scenario exactly, from the seed explore printed, and show its report "
                + "and the trace before it stopped.",
                "Exit code: 0 if the run completed, 1 if it hung or failed, 2 on bad input."})
final class ReplayCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<scenario>", description = "reclaim-rescuer, or a stack file (stacks/*.yaml).")
    String scenario;

    @Option(names = "--variant", paramLabel = "V", description = "The variant the seed was recorded for (default: the one the seed names).")
    String variant;

    @Option(names = "--seed", paramLabel = "S", required = true, converter = SimOptions.SeedConverter.class,
            description = "The run's seed as explore printed it (0x and 16 hex digits).")
    RunSeed seed;

    @Option(names = "--trace", paramLabel = "N", defaultValue = "40",
            description = "Task events to show before the stop (timer firings left out), 0..64 (default: ${DEFAULT-VALUE}).")
    int trace;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = "--verbose", description = "Show the runtime's log.")
    boolean verbose;

    @CommandLine.Mixin
    HtmlOption html;

    /** The variant whose fingerprint the seed carries, or the first if none does (then the check names it). */
    private Variant recordedVariant(Scenario s) {
        for (Variant v : s.variants()) {
            if (RunSeed.fingerprint(s.name(), v.name()) == seed.fingerprint()) {
                return v;
            }
        }
        return s.variants().get(0);
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cmd = spec.commandLine();
        Scenario s = SimOptions.scenario(cmd, scenario);
        Variant v = variant != null ? SimOptions.variant(cmd, s, variant) : recordedVariant(s);
        if (trace < 0 || trace > 64) {
            throw new CommandLine.ParameterException(cmd, "--trace: must be in 0..64, got " + trace);
        }
        html.check(cmd);
        Explorer explorer = new Explorer(SimOptions.catalogue(s));
        SimOptions.quietRuntime(verbose);
        RunResult r;
        try {
            r = explorer.replay(s, v, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--seed: " + e.getMessage());
        }
        var tail = r.traceTail().subList(Math.max(0, r.traceTail().size() - trace), r.traceTail().size());
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("json_version", ExploreResult.JSON_VERSION);
            m.put("scenario", s.name());
            m.put("variant", v.name());
            m.put("strategy", r.seed().strategy().cliName());
            m.put("depth", r.seed().depth());
            m.put("seed", r.seed().toString());
            m.put("result", r.outcome().name().toLowerCase());
            m.put("stop", r.reason());
            m.put("steps", r.steps());
            m.put("virtual_time_ns", r.virtualNanos());
            m.put("trace_hash", String.format("0x%016x", r.traceHash()));
            m.put("report", r.report() == null ? null : r.report().toMap());
            m.put("trace", tail.stream().map(dev.rescuer.sim.TraceEvent::toMap).toList());
            System.out.println(SimOptions.json().writeValueAsString(m));
        } else {
            System.out.printf("%s --variant %s, seed %s (%s, depth %d): %s after %d steps, virtual time %.3f s%n",
                    s.name(), v.name(), r.seed(), r.seed().strategy().cliName(), r.seed().depth(),
                    r.outcome().name().toLowerCase(), r.steps(), r.virtualNanos() / 1e9);
            System.out.printf("trace hash 0x%016x%n%n", r.traceHash());
            if (r.report() != null) {
                System.out.println(r.report().toText());
            }
            if (!tail.isEmpty()) {
                System.out.println("The last " + tail.size() + " task events before the stop (timer firings left out):");
                tail.forEach(line -> System.out.println("  " + line));
            }
        }
        boolean written = !html.wanted() || html.write(cmd, page(cmd, s, v, r));
        return r.outcome() == dev.rescuer.sim.explore.Outcome.COMPLETED && written ? 0 : 1;
    }

    /** The HTML page: the run's row and its section (every trace event the run kept, not only --trace's). */
    private HtmlReport page(CommandLine cmd, Scenario s, Variant v, RunResult r) {
        HtmlReport page = new HtmlReport("Rescuer replay: " + s.name() + " --variant " + v.name() + " --seed " + r.seed(),
                HtmlOption.commandLine(cmd));
        page.table(List.of("scenario", "variant", "seed", "strategy", "depth", "result", "steps", "virtual time", "trace hash"),
                List.of(List.of(s.name(), v.name(), r.seed().toString(), r.seed().strategy().cliName(),
                        Integer.toString(r.seed().depth()), r.outcome().name().toLowerCase(), Long.toString(r.steps()),
                        String.format(java.util.Locale.ROOT, "%.3fs", r.virtualNanos() / 1e9), String.format("0x%016x", r.traceHash()))),
                List.of(false));
        page.hang(s.name() + " --variant " + v.name() + ": the run (" + r.outcome().name().toLowerCase() + ")",
                "./rescuer replay " + scenario + " --variant " + v.name() + " --seed " + r.seed(), r);
        return page;
    }
}
