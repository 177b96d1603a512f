package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class S1CowThrottleTest {

    static final Path S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml");

    @Test
    void explore() {
        StackScenario s = StackScenario.load(S1);
        Explorer ex = new Explorer(List.of(s));
        for (var v : s.variants()) {
            ExploreResult r = ex.explore(s, v, ExploreOptions.defaults().withSchedules(200));
            System.out.println(v.name() + ": " + r.result() + " after " + r.schedulesRun() + " steps/run " + (r.totalSteps() / Math.max(1, r.runsExecuted())) + " in " + r.elapsedNanos() / 1e9 + "s");
            System.out.println("first run: " + r.firstRun().outcome() + " " + r.firstRun().reason() + " vt=" + r.firstRun().virtualNanos() + " tail=" + String.join("\n  ", r.firstRun().traceTail()));
            if (r.firstFinding() != null) {
                System.out.println(r.firstFinding().reason());
                if (r.firstFinding().report() != null) System.out.println(r.firstFinding().report().toText());
            }
        }
    }
}
