package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class S2LoopBufioTest {

    static {
        java.util.logging.Logger.getLogger("dev.rescuer").setLevel(java.util.logging.Level.OFF);
    }

    private final S2LoopBufio s2 = new S2LoopBufio();
    private final Explorer explorer = new Explorer(List.of(s2));

    @Test
    void probe() {
        for (String v : List.of("kswapd-loop-gfp-kernel", "kswapd-loop-noio", "kswapd-loop-trylock", "kswapd-shrinker-workqueue")) {
            for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                ExploreResult r = explorer.explore(s2, s2.variant(v), ExploreOptions.defaults().withStrategy(k).withSchedules(300));
                System.out.println("PROBE " + v + " " + k + " " + r.result() + " after " + r.schedulesRun()
                        + (r.firstFinding() == null ? "" : "\n" + r.firstFinding().reason() + "\n"
                        + (r.firstFinding().report() == null ? "" : String.join("\n", r.firstFinding().report().cycle()))));
            }
        }
    }
}
