package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code analyze}: the JSON contract on a stack file and on a declared graph, the variant, DOT, and bad input. */
class AnalyzeCommandTest {

    private static final String S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    @TempDir
    Path tmp;

    @Test
    void jsonOfAStackFileCarriesTheContract() throws Exception {
        CliRun r = CliRun.run("analyze", S1, "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        for (String key : new String[] {"queues", "needs_rescuer", "violations", "longest_chain", "min_rescuers", "plan"}) {
            assertTrue(j.has(key), key + " in " + r.out());
        }
        assertEquals(2, j.get("min_rescuers").asInt());
        assertEquals(2, j.get("plan").get("domains").size());
        assertEquals("ksnaphd/vg-snap0", j.get("longest_chain").get(0).asText());
        assertTrue(j.get("queues").get(0).get("flags").toString().contains("MEM_RECLAIM"));
    }

    @Test
    void aDeclaredGraphWithACycleExitsOneAndEmitsNoVariant() throws Exception {
        Path g = tmp.resolve("g.yaml");
        Files.writeString(g, "queues:\n  - {name: a, mem_reclaim: true}\n  - {name: b, mem_reclaim: true}\nwaits:\n"
                + "  - {from: a, to: b}\n  - {from: b, to: a}\n");
        CliRun r = CliRun.run("analyze", g.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("cycle") && r.out().contains("a -> b -> a"), r.out());
        CliRun v = CliRun.run("analyze", g.toString(), "--emit-variant", "plan");
        assertEquals(1, v.code());
        assertTrue(v.err().contains("no plan to emit"), v.err());
        CliRun dot = CliRun.run("analyze", g.toString(), "--dot");
        assertTrue(dot.out().startsWith("digraph waits {"), dot.out());
    }

    @Test
    void badGraphFilesAreUsageErrorsWithTheirLine() throws Exception {
        Path g = tmp.resolve("bad.yaml");
        Files.writeString(g, "queues:\n  - {name: a, mem_reclaim: maybe}\n");
        CliRun r = CliRun.run("analyze", g.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("bad.yaml:2:") && r.err().contains("mem_reclaim: must be true or false"), r.err());
        assertEquals(2, CliRun.run("analyze", tmp.resolve("missing.yaml").toString()).code());
    }
}
