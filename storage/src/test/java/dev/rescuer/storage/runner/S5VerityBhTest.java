package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** S5 on the model: verification in BH and on kverityd both complete (CI budget; long runs in docs/STORAGE.md). */
class S5VerityBhTest {

    @Test
    void bothVariantsCompleteUnderPctAndRandomWalk() {
        StackScenario s5 = StackScenario.load(Path.of("..", "stacks", "s5-verity-bh.yaml"));
        Explorer explorer = new Explorer(List.of(s5));
        for (var v : s5.variants()) {
            for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                ExploreResult r = explorer.explore(s5, v, ExploreOptions.defaults().withStrategy(k).withSchedules(40));
                assertEquals("ok", r.result(), () -> v.name() + " " + k + ": " + r.firstFinding().reason());
            }
        }
    }
}
