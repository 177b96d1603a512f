package dev.rescuer.storage.pagecache;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test helpers: explore a scenario's variant and require that every schedule completes; find a wait-for cycle in a report. */
public final class Explorations {

    private Explorations() {
    }

    /** Runs {@code schedules} schedules of {@code variant} with {@code kind}; fails with the first finding's report. */
    public static ExploreResult assertCompletes(Scenario scenario, String variant, StrategyKind kind, int schedules) {
        ExploreResult r = new Explorer(List.of(scenario)).explore(scenario, scenario.variant(variant),
                ExploreOptions.defaults().withStrategy(kind).withSchedules(schedules));
        String why = r.firstFinding() == null ? "" : r.firstFinding().reason() + "\n"
                + (r.firstFinding().report() == null ? "" : r.firstFinding().report().toText());
        assertEquals("ok", r.result(), why);
        assertEquals(schedules, r.schedulesRun());
        return r;
    }

    /**
     * Whether one of {@code report}'s wait-for cycles has an edge from each task named in
     * {@code tasks} (by name, without the id) and contains every one of {@code texts} (what is not a
     * task: a work item, pending or running, appears on the edge of whoever waits for it).
     */
    public static boolean hasCycle(HangReport report, List<String> tasks, List<String> texts) {
        for (List<String> cycle : report.cycles()) {
            List<String> from = cycle.stream().map(e -> e.replaceFirst(":\\d+ waits on .*", "")).toList();
            String text = String.join("\n", cycle);
            if (from.containsAll(tasks) && texts.stream().allMatch(text::contains)) {
                return true;
            }
        }
        return false;
    }
}
