package dev.rescuer.analyze;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.runner.StackScenario;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The seed stacks and a stack of independent dm stacks, analyzed from their targets' declarations,
 * with the plan written back as a variant and explored (CI budgets; the 5,000-schedule runs are in
 * docs/SHARING-RESCUERS.md).
 */
class StackPlanTest {

    static final Path S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml");
    static final Path S13 = Path.of("..", "stacks", "s13-independent-stacks.yaml");
    static final int SCHEDULES = 100;

    @Test
    void s1DeclaresItsQueuesAndWaitsAndThePlanPairsTheTwoSnapshotsByHeight() {
        StackGraphs.Built b = StackGraphs.declared(S1, "wait-unlocked");
        assertEquals("completed", b.outcome());
        Analysis a = Analyzer.analyze(b.graph(), "s1");
        assertTrue(a.violations().isEmpty(), a.violations().toString());
        assertEquals(List.of("ksnaphd/vg-snap0", "kcopyd/vg-snap0"), a.longestChain());
        assertEquals(List.of(List.of("ksnaphd/vg-snap0", "ksnaphd/vg-snap1"), List.of("kcopyd/vg-snap0", "kcopyd/vg-snap1")), a.domains());
        assertEquals(4, a.kernelRescuers());
        Analysis.Need need = a.needsRescuer().stream().filter(n -> n.queue().equals("ksnaphd/vg-snap0")).findFirst().orElseThrow();
        assertEquals(List.of("vg-snap0", "kcopyd/vg-snap0", "ksnaphd/vg-snap0"), need.path());
    }

    @Test
    void s1WithTheEmittedPlanRunsItsQueuesInTheDomainsAndCompletes() throws Exception {
        Analysis a = Analyzer.analyze(StackGraphs.declared(S1, null).graph(), "s1");
        String text = Files.readString(S1) + a.toVariantYaml("plan");
        StackFile file = StackFile.parse("s1+plan", "s1-cow-throttle", text, Kinds.builtIn());
        WaitGraph planned = StackGraphs.declared(file, "plan").graph();
        Map<String, String> domains = new HashMap<>();
        planned.nodes().stream().filter(n -> n.kind() == WaitGraph.NodeKind.QUEUE).forEach(n -> domains.put(n.name(), n.domain()));
        assertEquals(a.assignment(), domains, "each queue was created in the domain the plan gave it");
        StackScenario s = new StackScenario(file);
        for (StrategyKind k : StrategyKind.values()) {
            ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("plan"),
                    ExploreOptions.defaults().withStrategy(k).withSchedules(SCHEDULES));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().report());
        }
    }

    @Test
    void independentStacksShareAndTheFilesPlanIsTheAnalyzers() {
        StackFile file = StackFile.load(S13, Kinds.builtIn());
        Analysis a = Analyzer.analyze(StackGraphs.declared(file, "own-rescuers").graph(), "s13");
        assertEquals(2, a.minRescuers());
        assertEquals(5, a.kernelRescuers());
        WaitGraph planned = StackGraphs.declared(file, "plan").graph();
        for (Map.Entry<String, String> e : a.assignment().entrySet()) {
            assertEquals(e.getValue(), planned.node(e.getKey()).domain(), e.getKey());
        }
        StackScenario s = new StackScenario(file);
        for (StrategyKind k : StrategyKind.values()) {
            ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("plan"),
                    ExploreOptions.defaults().withStrategy(k).withSchedules(SCHEDULES));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().report());
        }
    }

    /**
     * With every worker creation failing ({@code system.faults.worker_create: fail}), the rescuers run
     * every item: the analyzer's plan completes, and a plan that puts kcopyd and ksnaphd of one
     * snapshot (one chain: kcopyd's {@code copy_callback} flushes ksnaphd) into one domain hangs, the
     * wait-for cycle running through the shared rescuer. On the seed stacks {@code s1} and
     * {@code s4a} both variants are written from the analysis and appended to the file; {@code s13}
     * carries them ({@code plan-no-workers}, {@code chain-shared-no-workers}), checked against the
     * analysis; its bad plan lets the first 0..3 worker creations succeed (drawn per schedule), and
     * hangs in the schedules where none does. Without the fault the bad plan does not hang: workers
     * run the items.
     */
    @ParameterizedTest
    @CsvSource({
            "s1-cow-throttle.yaml, ksnaphd/vg-snap0, kcopyd/vg-snap0",
            "s13-independent-stacks.yaml, ksnaphd/vg-a-snap, kcopyd/vg-a-snap",
            "s4a-snapshot-on-verity.yaml, ksnaphd/vsnap, kcopyd/vsnap"})
    void withNoWorkerCreatableThePlanCompletesAndSharingAlongAChainHangsThroughTheSharedRescuer(String name, String lower, String upper)
            throws Exception {
        Path p = S1.resolveSibling(name);
        StackFile file = StackFile.load(p, Kinds.builtIn());
        Analysis a = Analyzer.analyze(StackGraphs.declared(file, null).graph(), p.toString());
        assertNotEquals(a.assignment().get(lower), a.assignment().get(upper), "the plan keeps the chain's queues apart");
        Map<String, String> bad = new LinkedHashMap<>(a.assignment());
        bad.put(lower, "shared");
        bad.put(upper, "shared");
        if (!p.equals(S13)) {
            String text = Files.readString(p) + noWorkersVariant("plan-no-workers", "complete", a.assignment())
                    + noWorkersVariant("chain-shared-no-workers", "hang", bad);
            file = StackFile.parse(name, name, text, Kinds.builtIn());
        }
        WaitGraph planned = StackGraphs.declared(file, "plan-no-workers").graph();
        WaitGraph shared = StackGraphs.declared(file, "chain-shared-no-workers").graph();
        for (Map.Entry<String, String> e : a.assignment().entrySet()) {
            assertEquals(e.getValue(), planned.node(e.getKey()).domain(), p + ": " + e.getKey() + " is in the analyzer's domain");
            assertEquals(bad.get(e.getKey()), shared.node(e.getKey()).domain(), p + ": " + e.getKey() + " in the bad plan");
        }
        StackScenario s = new StackScenario(file);
        for (StrategyKind k : StrategyKind.values()) {
            ExploreResult r = new Explorer(List.of(s)).explore(s, s.variant("plan-no-workers"),
                    ExploreOptions.defaults().withStrategy(k).withSchedules(SCHEDULES));
            assertEquals("ok", r.result(), () -> p + " " + k + ": " + r.firstFinding().report());
            ExploreResult h = new Explorer(List.of(s)).explore(s, s.variant("chain-shared-no-workers"),
                    ExploreOptions.defaults().withStrategy(k).withSchedules(SCHEDULES));
            assertEquals("hang", h.result(), p + " " + k);
            List<String> cycle = h.firstFinding().report().cycle();
            assertTrue(cycle.stream().anyMatch(x -> x.contains("kworker/R-shared")), p + " " + k + ": the cycle runs through the shared rescuer: " + cycle);
            assertTrue(cycle.stream().anyMatch(x -> x.contains(lower)), p + " " + k + ": and through " + lower + ": " + cycle);
        }
    }

    private static String noWorkersVariant(String name, String expected, Map<String, String> domains) {
        StringBuilder b = new StringBuilder("  - name: " + name + "\n    expected: " + expected + "\n    set:\n"
                + "      system.faults: {worker_create: fail}\n      system.rescuer_domains: {");
        List<String> parts = new ArrayList<>();
        domains.forEach((q, d) -> parts.add("\"" + q + "\": " + d));
        return b.append(String.join(", ", parts)).append("}\n").toString();
    }
}
