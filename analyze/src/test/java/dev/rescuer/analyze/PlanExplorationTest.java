package dev.rescuer.analyze;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.deps.WaitGraph;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Plans proved by exploration on the simulator: the analyzer's plan never hangs; a plan that puts
 * two queues of one chain in one domain hangs, and the hang report's cycle runs through the shared
 * rescuer.
 */
class PlanExplorationTest {

    static final int SCHEDULES = 150; // CI; the long run is measured once and reported in docs/SHARING-RESCUERS.md

    static ExploreResult explore(GraphScenario s, String variant, StrategyKind kind, int schedules, long seed) {
        Variant v = s.variants().stream().filter(x -> x.name().equals(variant)).findFirst().orElseThrow();
        ExploreOptions o = ExploreOptions.defaults().withStrategy(kind).withSchedules(schedules).withSeed(seed);
        return new Explorer(List.of(s)).explore(s, v, o);
    }

    /** Plans: the analyzer's, everything in one domain, and own rescuers (upstream). */
    static GraphScenario scenario(String name, WaitGraph g, Analysis a, Map<String, String> bad) {
        return new GraphScenario(name, g, List.of(
                new GraphScenario.Plan("plan", a.assignment(), false),
                new GraphScenario.Plan("own", Map.of(), false),
                new GraphScenario.Plan("merged", bad, true)));
    }

    @Test
    void stackedQueuesInOneDomainHangThroughTheSharedRescuerAndInTwoDomainsComplete() {
        WaitGraph g = new WaitGraph();
        g.queue("upper", true, null);
        g.queue("lower", true, null);
        g.waitsOn("upper", "lower", "the upper item waits on a lower item");
        Analysis a = Analyzer.analyze(g, "stacked");
        assertEquals(2, a.minRescuers());
        GraphScenario s = scenario("stacked", g, a, Map.of("upper", "shared", "lower", "shared"));
        for (StrategyKind k : StrategyKind.values()) {
            assertEquals("ok", explore(s, "plan", k, SCHEDULES, 1).result(), k + ": two domains complete");
        }
        ExploreResult hang = explore(s, "merged", StrategyKind.PCT, 100, 1);
        assertEquals("hang", hang.result());
        String report = hang.firstFinding().report().toText();
        assertTrue(report.contains("kworker/R-shared"), report);
        assertFalse(hang.firstFinding().report().cycles().isEmpty(), report);
        assertTrue(hang.firstFinding().report().cycles().stream().anyMatch(c -> c.stream().anyMatch(x -> x.contains("kworker/R-shared"))),
                "the cycle runs through the shared rescuer: " + hang.firstFinding().report().cycles());
        // it replays from its seed
        var replay = new Explorer(List.of(s)).replay(s, s.variants().get(2), hang.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(hang.firstFinding().traceHash(), replay.traceHash());
    }

    @Test
    void independentQueuesShareOneRescuerAndComplete() {
        WaitGraph g = new WaitGraph();
        g.queue("a", true, null);
        g.queue("b", true, null);
        Analysis a = Analyzer.analyze(g, "independent");
        assertEquals(List.of(List.of("a", "b")), a.domains());
        GraphScenario s = new GraphScenario("independent", g, List.of(new GraphScenario.Plan("plan", a.assignment(), false)));
        for (StrategyKind k : StrategyKind.values()) {
            assertEquals("ok", explore(s, "plan", k, SCHEDULES, 1).result(), k.toString());
        }
    }

    /** A random layered DAG: {@code layers} layers of 1..width queues, each waiting on 1..2 queues of lower layers. */
    static WaitGraph randomLayered(SplittableRandom r, int layers, int width) {
        WaitGraph g = new WaitGraph();
        List<List<String>> byLayer = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            List<String> layer = new ArrayList<>();
            int n = 1 + r.nextInt(width);
            for (int i = 0; i < n; i++) {
                String q = "L" + l + "q" + i;
                g.queue(q, true, null);
                layer.add(q);
                if (l > 0) {
                    int edges = 1 + r.nextInt(2);
                    for (int e = 0; e < edges; e++) {
                        List<String> below = byLayer.get(r.nextInt(l));
                        g.waitsOn(q, below.get(r.nextInt(below.size())), "random");
                    }
                }
            }
            byLayer.add(layer);
        }
        return g;
    }

    @Test
    void randomLayeredGraphsThePlanNeverHangsAndMergingTwoDomainsAlongAChainDoes() {
        SplittableRandom r = new SplittableRandom(13);
        for (int instance = 0; instance < 4; instance++) {
            WaitGraph g = randomLayered(r, 2 + r.nextInt(2), 2);
            Analysis a = Analyzer.analyze(g, "random#" + instance);
            assertTrue(a.hasPlan());
            assertEquals(a.longestChain().size(), a.minRescuers(), "Mirsky: as many domains as the longest chain has queues");
            // Merge the domains of the chain's two lowest queues.
            Map<String, String> merged = new LinkedHashMap<>(a.assignment());
            String d0 = merged.get(a.longestChain().get(0));
            String d1 = merged.get(a.longestChain().get(1));
            merged.replaceAll((q, d) -> d.equals(d1) ? d0 : d);
            GraphScenario s = scenario("random-" + instance, g, a, merged);
            for (StrategyKind k : StrategyKind.values()) {
                assertEquals("ok", explore(s, "plan", k, 60, instance).result(), "instance " + instance + " " + k + " " + g.edges());
            }
            assertEquals("hang", explore(s, "merged", StrategyKind.PCT, 100, instance).result(),
                    "instance " + instance + ": merging " + d0 + " and " + d1 + " along " + a.longestChain() + " " + g.edges());
        }
    }
}
