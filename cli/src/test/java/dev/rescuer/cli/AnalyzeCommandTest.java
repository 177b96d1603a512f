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
    void jsonOfAnS3LikeStackCarriesEachEvidencePathAndEachViolationsKindAndPath() throws Exception {
        Path f = tmp.resolve("md.yaml");
        Files.writeString(f, """
                name: md
                modules:
                  kernfs: {notify_wq: system_wq}
                devices:
                  - {kind: disk, name: sda, sectors: 1024}
                  - {kind: disk, name: sdb, sectors: 1024}
                  - {kind: md-raid1, name: md0, members: [sda, sdb], metadata: external}
                  - {kind: filesystem, name: data, device: md0, options: rw, log_blocks: 8, inodes: 8}
                workload:
                  - {kind: mdmon, name: mdmon, memory: mlocked, wakeup: fsnotify}
                  - {kind: file-writer, name: writer, fs: data, file: f, pages: 4, fsync: true}
                variants:
                  - {name: upstream, expected: complete, set: {modules.kernfs.notify_wq: system_wq}}
                """);
        CliRun r = CliRun.run("analyze", f.toString(), "--json");
        assertEquals(1, r.code(), "violations exit 1: " + r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        JsonNode events = null;
        for (JsonNode n : j.get("needs_rescuer")) {
            assertTrue(n.has("queue") && n.get("path").isArray() && n.get("path").size() >= 2, n.toString());
            if (n.get("queue").asText().equals("events")) {
                events = n;
            }
        }
        assertNotNull(events, r.out());
        assertEquals("[\"md0\",\"sb_wait/md0\",\"mdmon/md0\",\"events\"]", events.get("path").toString());
        assertEquals(2, j.get("violations").size(), r.out());
        assertEquals("task-on-reclaim-path", j.get("violations").get(0).get("kind").asText());
        assertEquals("[\"md0\",\"sb_wait/md0\",\"mdmon/md0\"]", j.get("violations").get(0).get("path").toString());
        assertEquals("no-rescuer-on-reclaim-path", j.get("violations").get(1).get("kind").asText());
        assertTrue(j.get("violations").get(1).get("message").asText().contains("events"), r.out());
        JsonNode events0 = null;
        for (JsonNode q : j.get("queues")) {
            if (q.get("name").asText().equals("events")) {
                events0 = q;
            }
        }
        assertNotNull(events0, "every queue is listed with its flags: " + r.out());
        assertFalse(events0.get("mem_reclaim").asBoolean());
        // events (system_wq) has no rescuer: it needs one (the violation), but it is neither in a domain nor counted
        assertEquals(2, j.get("min_rescuers").asInt());
        assertEquals("[\"md\",\"writeback\"]", j.get("longest_chain").toString());
        assertEquals(2, j.get("plan").get("domains").size());
        assertFalse(j.get("plan").get("domains").toString().contains("events"), r.out());
        assertEquals(3, j.get("kernel_rescuers").asInt(), "md, writeback and xfs-cil/md0: " + r.out());
        assertTrue(j.get("plan").get("domains").get(0).isArray());
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

    /**
     * A stack file that cannot build is refused at load as check refuses it (exit 2, file, line and
     * column), never run; so are bytes that are not UTF-8, and an unknown variant names the variants.
     */
    @Test
    void badStackFilesAreRefusedBeforeAnythingIsBuilt() throws Exception {
        Path table = tmp.resolve("table.yaml");
        Files.writeString(table, "devices:\n  - {kind: disk, name: sda, sectors: 1024}\n"
                + "  - {kind: dm, name: l, table: \"0 4096 linear sda 0\"}\n"
                + "variants:\n  - {name: v, expected: complete}\n");
        CliRun r = CliRun.run("analyze", table.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(table + ":3:25: devices[1].table: linear: sda too small for target: start=0, len=4096, dev_size=1024"),
                r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("did not build"), r.err());
        Path latin1 = tmp.resolve("latin1.yaml");
        Files.write(latin1, "name: b\ndescription: caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        CliRun bytes = CliRun.run("analyze", latin1.toString());
        assertEquals(2, bytes.code(), bytes.err());
        assertTrue(bytes.err().contains(latin1 + ":2:17: not UTF-8: byte 0xe9 at byte offset 24"), bytes.err());
        CliRun variant = CliRun.run("analyze", S1, "--variant", "nosuch");
        assertEquals(2, variant.code(), variant.err());
        assertTrue(variant.err().contains("--variant: unknown variant 'nosuch' of stack s1-cow-throttle; variants: wait-unlocked, "
                + "semaphore-under-lock"), variant.err());
    }
}
