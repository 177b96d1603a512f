package dev.rescuer.storage.loop;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.runner.StackScenario;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The long runs behind docs/STORAGE.md's S2 table and Chinner's claim; skipped unless
 * {@code -Ds2.measure=true}:
 * <pre>
 * mvn -B -q -pl storage -am verify -Dtest=S2Measurements -Ds2.measure=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * It measures the stack file {@code stacks/s2-loop-bufio.yaml}.
 * For each hanging variant: PCT over seeds 1..20, schedules to the first hang (median and maximum)
 * and which cycle was found; for each completing variant: 5,000 schedules under PCT and 5,000 under
 * random walk. Prints one line per variant and fails if a verdict differs from the expectation.
 */
class S2Measurements {

    @Test
    void measure() {
        assumeTrue(Boolean.getBoolean("s2.measure"), "long run: pass -Ds2.measure=true");
        Scenario s2 = StackScenario.load(Path.of("..", "stacks", "s2-loop-bufio.yaml"));
        Explorer explorer = new Explorer(List.of(s2));
        for (Variant v : s2.variants()) {
            if (v.expected() == Variant.Expectation.HANGS) {
                List<Long> toHang = new ArrayList<>();
                int junxiao = 0;
                int selfWait = 0;
                int agf = 0;
                for (long seed = 1; seed <= 20; seed++) {
                    ExploreResult r = explorer.explore(s2, v, ExploreOptions.defaults().withSeed(seed).withSchedules(1000));
                    assertEquals("hang", r.result(), v.name() + " seed " + seed);
                    toHang.add(r.schedulesRun());
                    String cycle = String.join("\n", r.firstFinding().report().cycle());
                    if (cycle.contains("waits on mutex thin-metadata/c->lock")) {
                        junxiao++;
                    } else if (cycle.contains("[agf]")) {
                        agf++;
                    } else {
                        selfWait++;
                    }
                }
                Collections.sort(toHang);
                System.out.printf("S2 %-30s hangs: PCT schedules to first hang over 20 seeds: median %d, max %d;"
                                + " cycles: c->lock vs loop I/O %d, AGF vs loop I/O %d, loop worker waits for its own write %d; sorted %s%n",
                        v.name(), (toHang.get(9) + toHang.get(10)) / 2, toHang.get(19), junxiao, agf, selfWait, toHang);
            } else {
                for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                    long t0 = System.nanoTime();
                    ExploreResult r = explorer.explore(s2, v, ExploreOptions.defaults().withStrategy(k).withSchedules(5000));
                    assertEquals("ok", r.result(), v.name() + " " + k);
                    System.out.printf("S2 %-30s completes: %d %s schedules, %.1f s%n", v.name(), r.schedulesRun(), k,
                            (System.nanoTime() - t0) / 1e9);
                }
            }
        }
    }
}
