package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code check}, and stack files in {@code explore}/{@code replay}: the JSON contract and bad input. */
class CheckCommandTest {

    private static final String S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    @TempDir
    Path tmp;

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    private Path file(String text) throws IOException {
        Path p = tmp.resolve("stack.yaml");
        Files.writeString(p, text);
        return p;
    }

    private static void assertUsageError(CliRun r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "error names '" + f + "':\n" + r.err());
        }
        assertFalse(r.err().contains("\tat dev.") || r.err().contains("Exception"), "no stack trace:\n" + r.err());
        assertEquals("", r.out(), "nothing ran");
    }

    @Test
    void checkValidateReportsTheS1CycleFromCompletedSchedulesAndNothingForTheFix() throws Exception {
        CliRun r = run("check", S1, "--schedules", "20", "--validate", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode list = new ObjectMapper().readTree(r.out());
        JsonNode fixed = list.get(0);
        assertEquals("wait-unlocked", fixed.get("variant").asText());
        assertEquals(20, fixed.get("validated_schedules").asInt());
        assertEquals(0, fixed.get("potential_cycles").size(), fixed.toString());
        JsonNode buggy = list.get(1);
        assertEquals("semaphore-under-lock", buggy.get("variant").asText());
        assertTrue(buggy.get("validated_schedules").asInt() > 0, buggy.toString());
        assertEquals(1, buggy.get("potential_cycles").size(), buggy.toString());
        assertEquals("&_origins_lock -> &s->cow_count -> &_origins_lock", buggy.get("potential_cycles").get(0).get("chain").asText());
    }

    @Test
    void checkJsonHasOneObjectPerVariantWithTheHangsSeedAndCycles() throws Exception {
        CliRun r = run("check", S1, "--schedules", "20", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode list = new ObjectMapper().readTree(r.out());
        assertEquals(2, list.size());
        JsonNode ok = list.get(0);
        assertEquals("s1-cow-throttle", ok.get("scenario").asText());
        assertEquals("wait-unlocked", ok.get("variant").asText());
        assertEquals("complete", ok.get("expected").asText());
        assertEquals("ok", ok.get("result").asText());
        assertEquals(20, ok.get("schedules_run").asInt());
        JsonNode hang = list.get(1);
        assertEquals("semaphore-under-lock", hang.get("variant").asText());
        assertEquals("hang", hang.get("expected").asText());
        assertEquals("hang", hang.get("result").asText());
        String seed = hang.get("first_hang").get("seed").asText();
        assertTrue(seed.startsWith("0x"));
        assertFalse(hang.get("first_hang").get("report").get("wait_for_cycles").isEmpty());

        CliRun replay = run("replay", S1, "--seed", seed, "--json");
        assertEquals(1, replay.code(), replay.err());
        JsonNode rj = new ObjectMapper().readTree(replay.out());
        assertEquals("semaphore-under-lock", rj.get("variant").asText(), "the seed names its variant");
        assertEquals("hang", rj.get("result").asText());
    }

    @Test
    void exploreTakesAStackFile() {
        CliRun r = run("explore", S1, "--variant", "semaphore-under-lock", "--schedules", "20");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.out().contains("replay: ./rescuer replay " + S1 + " --variant semaphore-under-lock --seed 0x"), r.out());
    }

    @Test
    void badStackFilesExitTwoNamingFileLineAndColumn() throws IOException {
        Path unknown = file("devices:\n  - {kind: disk, name: sda, sectors: 8, depth: 4}\n");
        assertUsageError(run("check", unknown.toString()), unknown + ":2:41: devices[0].depth: unknown key 'depth'");
        Path type = file("system: {cpus: two}\ndevices: [{kind: disk, name: sda, sectors: 8}]\n");
        assertUsageError(run("check", type.toString()), type + ":1:10: system.cpus: wrong type: expected an integer");
        Path table = file("devices:\n  - {kind: disk, name: sda, sectors: 8}\n  - {kind: dm, name: s, table: \"0 8 snapshot sda sdb P 8\"}\n");
        assertUsageError(run("check", table.toString()), table + ":3:25: devices[1].table: snapshot: Cannot get COW device (no device sdb)");
        assertUsageError(run("explore", table.toString()), "snapshot: Cannot get COW device (no device sdb)");
        assertUsageError(run("check", tmp.resolve("missing.yaml").toString()), tmp.resolve("missing.yaml") + ": no such file");
        Path syntax = file("devices:\n  - {kind: disk, name: sda, }\nvariants:\n  - {name: v, expected: complete}/x/}\n");
        assertUsageError(run("check", syntax.toString()), syntax + ":");
        assertFalse(run("check", syntax.toString()).err().contains("org.yaml"), "the parser's event objects are not shown");
        Path bytes = tmp.resolve("bytes.yaml");
        Files.write(bytes, new byte[] {'n', 'a', 'm', 'e', ':', ' ', (byte) 0xff, '\n'});
        assertUsageError(run("check", bytes.toString()), bytes + ":1:7: not UTF-8: byte 0xff at byte offset 6");
        Path index = file("devices:\n  - {kind: disk, name: sda, sectors: 8}\nvariants:\n"
                + "  - {name: v, expected: complete, set: {devices.99999999999.sectors: 8}}\n");
        assertUsageError(run("check", index.toString()), index + ":4:41: variants[0].set.devices.99999999999.sectors: no element named");
        assertUsageError(run("check", S1, "--variant", "nope"), "--variant: unknown variant 'nope'");
    }
}
