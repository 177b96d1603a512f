package dev.rescuer.analyze;

import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.stack.StackFileException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The analyzer on declared graphs: needs, violations, the plan by height and the chain that proves it minimal. */
class AnalyzerTest {

    /** Two independent four-layer stacks, crypt on snapshot on verity on linear-like queues, each on its own disk. */
    static String twoStacks() {
        StringBuilder b = new StringBuilder("name: two-stacks\nnodes:\n");
        for (int s = 0; s < 2; s++) {
            b.append("  - {name: disk").append(s).append(", kind: device}\n");
        }
        b.append("queues:\n");
        String[] layers = {"linear", "verity", "snap", "crypt"};
        for (int s = 0; s < 2; s++) {
            for (String l : layers) {
                b.append("  - {name: ").append(l).append(s).append(", mem_reclaim: true}\n");
            }
        }
        b.append("waits:\n");
        for (int s = 0; s < 2; s++) {
            b.append("  - {from: disk").append(s).append(", to: crypt").append(s).append("}\n");
            for (int i = layers.length - 1; i > 0; i--) {
                b.append("  - {from: ").append(layers[i]).append(s).append(", to: ").append(layers[i - 1]).append(s).append("}\n");
            }
        }
        return b.toString();
    }

    @Test
    void independentStacksShareByHeightAndTheLongestChainProvesItMinimal() {
        Analysis a = Analyzer.analyze(DeclaredGraph.parse("two.yaml", twoStacks()), "two.yaml");
        assertTrue(a.violations().isEmpty(), a.violations().toString());
        assertEquals(4, a.minRescuers());
        assertEquals(8, a.kernelRescuers());
        assertEquals(List.of(List.of("linear0", "linear1"), List.of("verity0", "verity1"), List.of("snap0", "snap1"),
                List.of("crypt0", "crypt1")), a.domains());
        assertEquals(4, a.longestChain().size());
        assertEquals("linear", a.longestChain().get(0).replaceAll("\\d", ""));
        assertEquals("crypt", a.longestChain().get(3).replaceAll("\\d", ""));
        assertEquals(8, a.needsRescuer().size());
        Analysis.Need linear0 = a.needsRescuer().stream().filter(n -> n.queue().equals("linear0")).findFirst().orElseThrow();
        assertEquals(List.of("disk0", "crypt0", "snap0", "verity0", "linear0"), linear0.path());
        assertEquals("rescuer-1", a.assignment().get("linear1"));
    }

    /** Two queues each waiting on the other. */
    private static final String TWO_QUEUE_CYCLE = """
            queues:
              - {name: a, mem_reclaim: true}
              - {name: b, mem_reclaim: true}
            waits:
              - {from: a, to: b}
              - {from: b, to: a}
            """;

    @Test
    void aCycleMeansNoPlanAndIsPrinted() {
        Analysis a = Analyzer.analyze(DeclaredGraph.parse("c.yaml", TWO_QUEUE_CYCLE), "c.yaml");
        assertFalse(a.hasPlan());
        assertEquals(0, a.minRescuers());
        Analysis.Violation v = a.violations().get(0);
        assertEquals("cycle", v.kind());
        assertEquals(List.of("a", "b", "a"), v.path());
        assertTrue(a.toText().contains("no rescuer plan"));
        assertNull(a.toMap().get("plan"));
    }

    /**
     * The JSON's objects list their keys in docs/JSON.md's order in every run ({@code Map.of}'s
     * order is drawn per JVM, so a test run could pass with it by chance, but not every run).
     */
    @Test
    void theJsonNeedsAndViolationsKeepTheirKeyOrder() {
        Analysis needs = Analyzer.analyze(DeclaredGraph.parse("two.yaml", twoStacks()), "two.yaml");
        Analysis cycle = Analyzer.analyze(DeclaredGraph.parse("c.yaml", TWO_QUEUE_CYCLE), "c.yaml");
        Map<?, ?> need = (Map<?, ?>) ((List<?>) needs.toMap().get("needs_rescuer")).get(0);
        Map<?, ?> violation = (Map<?, ?>) ((List<?>) cycle.toMap().get("violations")).get(0);
        assertEquals(List.of("queue", "path"), List.copyOf(need.keySet()));
        assertEquals(List.of("kind", "message", "path"), List.copyOf(violation.keySet()));
    }

    @Test
    void reclaimPathViolationsAndUnneededReclaimQueues() {
        String yaml = """
                nodes:
                  - {name: kswapd, kind: reclaim}
                  - {name: mdmon, kind: task}
                queues:
                  - {name: writeback, mem_reclaim: true}
                  - {name: events, mem_reclaim: false}
                  - {name: md, mem_reclaim: true}
                  - {name: idle, mem_reclaim: true}
                  - {name: plain, mem_reclaim: false}
                waits:
                  - {from: kswapd, to: writeback}
                  - {from: writeback, to: md}
                  - {from: md, to: mdmon, why: "md_write_start waits for the metadata daemon"}
                  - {from: writeback, to: events, kind: flushes}
                """;
        Analysis a = Analyzer.analyze(DeclaredGraph.parse("v.yaml", yaml), "v.yaml");
        Map<String, Analysis.Violation> byKind = new java.util.HashMap<>();
        a.violations().forEach(v -> byKind.put(v.kind(), v));
        assertEquals(List.of("kswapd", "writeback", "md", "mdmon"), byKind.get("task-on-reclaim-path").path());
        assertEquals(List.of("kswapd", "writeback", "events"), byKind.get("no-rescuer-on-reclaim-path").path());
        assertEquals(List.of("writeback", "events"), byKind.get("flush-without-rescuer").path());
        assertEquals(List.of("idle", "plain"), a.noRescuerNeeded());
        assertEquals(List.of("idle"), a.memReclaimUnneeded());
        // events needs a rescuer too, so it is planned: writeback sits above md and events.
        assertEquals(2, a.minRescuers());
        assertEquals(List.of("md", "writeback"), a.longestChain());
    }

    @Test
    void badGraphFilesAreRefusedWithTheirLineAndColumn() {
        StackFileException undeclared = assertThrows(StackFileException.class, () -> DeclaredGraph.parse("g.yaml", """
                queues:
                  - {name: a, mem_reclaim: true}
                waits:
                  - {from: a, to: nowhere}
                """));
        assertEquals(4, undeclared.line());
        assertTrue(undeclared.getMessage().contains("waits[0].to: 'nowhere' is not a declared queue or node"), undeclared.getMessage());
        StackFileException unknown = assertThrows(StackFileException.class, () -> DeclaredGraph.parse("g.yaml", """
                queues:
                  - {name: a, mem_reclam: true}
                """));
        assertEquals(2, unknown.line());
        assertTrue(unknown.getMessage().contains("unknown key 'mem_reclam'"), unknown.getMessage());
        StackFileException twice = assertThrows(StackFileException.class, () -> DeclaredGraph.parse("g.yaml", """
                queues:
                  - {name: a}
                  - {name: a}
                """));
        assertEquals(3, twice.line());
        StackFileException kind = assertThrows(StackFileException.class, () -> DeclaredGraph.parse("g.yaml", """
                nodes:
                  - {name: x, kind: disk}
                """));
        assertTrue(kind.getMessage().contains("must be device, reclaim, task or point"), kind.getMessage());
    }

    @Test
    void theVariantCarriesThePlan() {
        Analysis a = Analyzer.analyze(DeclaredGraph.parse("two.yaml", twoStacks()), "two.yaml");
        String v = a.toVariantYaml("plan");
        assertTrue(v.contains("system.rescuer_domains: {\"linear0\": rescuer-1, \"linear1\": rescuer-1"), v);
        assertTrue(v.contains("expected: complete"));
    }

    @Test
    void aTenThousandQueueGraphIsAnalyzedInOnePass() {
        WaitGraph g = layered(2_500, 4);
        Analysis a = Analyzer.analyze(g, "layered");
        assertEquals(4, a.minRescuers());
        assertEquals(10_000, a.kernelRescuers());
        assertEquals(2_500, a.domains().get(0).size());
    }

    /** {@code stacks} independent stacks of {@code depth} reclaim queues under one disk each. */
    static WaitGraph layered(int stacks, int depth) {
        WaitGraph g = new WaitGraph();
        for (int s = 0; s < stacks; s++) {
            g.node("disk" + s, WaitGraph.NodeKind.DEVICE);
            String above = "disk" + s;
            for (int l = depth - 1; l >= 0; l--) {
                String q = "q" + s + "." + l;
                g.queue(q, true, null);
                g.waitsOn(above, q, "layer");
                above = q;
            }
        }
        return g;
    }
}
