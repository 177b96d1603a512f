package dev.rescuer.storage.pagecache;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test helper: explore a scenario's variant and require that every schedule completes. */
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
}
