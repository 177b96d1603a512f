package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code explore} and {@code replay}: their JSON contracts, exit codes and errors for bad input. */
class SimCommandsTest {

    private static final String S1 = java.nio.file.Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    private static CliRun run(String... args) {
        return CliRun.run(args);
    }

    private static void assertUsageError(CliRun r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "error names '" + f + "':\n" + r.err());
        }
        assertFalse(r.err().contains("\tat dev.") || r.err().contains("Exception"), "no stack trace:\n" + r.err());
    }

    @Test
    void exploreValidatePrintsTheCyclesOfCompletedSchedulesAndAddsThemToTheJson() throws Exception {
        CliRun buggy = run("explore", S1, "--variant", "semaphore-under-lock", "--schedules", "20", "--validate", "--json");
        assertEquals(1, buggy.code(), buggy.err());
        JsonNode b = new ObjectMapper().readTree(buggy.out());
        assertTrue(b.get("validated_schedules").asLong() > 0, buggy.out());
        JsonNode cycles = b.get("potential_cycles");
        assertEquals(1, cycles.size(), buggy.out());
        assertEquals("&_origins_lock -> &s->cow_count -> &_origins_lock", cycles.get(0).get("chain").asText());
        assertEquals(2, cycles.get(0).get("links").size());
        assertTrue(cycles.get(0).get("tasks").toString().contains("drbd_r/"), buggy.out());

        CliRun fixed = run("explore", S1, "--variant", "wait-unlocked", "--schedules", "20", "--validate");
        assertEquals(0, fixed.code(), fixed.out() + fixed.err());
        assertTrue(fixed.out().contains("validator: 20 of 20 schedules completed and were validated (0 hung or failed); 0 potential cycle(s)"),
                fixed.out());
    }

    @Test
    void exploreFindsTheCowThrottleHangAndReplayReproducesItExactly() throws Exception {
        CliRun explore = run("explore", S1, "--variant", "semaphore-under-lock", "--json");
        assertEquals(1, explore.code(), "a hang found exits 1:\n" + explore.err());
        JsonNode e = new ObjectMapper().readTree(explore.out());
        assertEquals("s1-cow-throttle", e.get("scenario").asText());
        assertEquals("semaphore-under-lock", e.get("variant").asText());
        assertEquals("pct", e.get("strategy").asText());
        assertEquals("hang", e.get("result").asText());
        assertTrue(e.get("schedules_run").asLong() >= 1);
        assertTrue(e.get("steps_per_second").asLong() > 0);
        assertTrue(e.get("trace_hash_of_first_run").asText().startsWith("0x"));
        JsonNode hang = e.get("first_hang");
        String seed = hang.get("seed").asText();
        JsonNode report = hang.get("report");
        assertFalse(report.get("blocked_tasks").isEmpty());
        JsonNode link = report.get("wait_for_cycles").get(0).get("links").get(0);
        assertTrue(report.get("wait_for_cycles").toString().contains("_origins_lock"), report.toString());
        for (String field : new String[] {"task", "pid", "waits_on", "edge", "to", "text"}) {
            assertTrue(link.has(field), "a cycle link names its " + field + ": " + link);
        }

        CliRun replay = run("replay", S1, "--variant", "semaphore-under-lock", "--seed", seed, "--json");
        assertEquals(1, replay.code(), replay.err());
        JsonNode r = new ObjectMapper().readTree(replay.out());
        assertEquals(seed, r.get("seed").asText());
        assertEquals("hang", r.get("result").asText());
        assertEquals(report, r.get("report"), "the replay's report is the explored run's report");
        assertEquals(hang.get("steps").asLong(), r.get("steps").asLong());
        assertFalse(r.get("trace").isEmpty(), "replay shows the trace before the hang");

        CliRun inferred = run("replay", S1, "--seed", seed, "--json");
        assertEquals(r.get("trace_hash"), new ObjectMapper().readTree(inferred.out()).get("trace_hash"),
                "without --variant the seed's own variant is replayed");
    }

    @Test
    void exploreOfAVariantThatCompletesExitsZero() throws Exception {
        CliRun r = run("explore", S1, "--variant", "wait-unlocked", "--schedules", "20", "--strategy", "random", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode e = new ObjectMapper().readTree(r.out());
        assertEquals("ok", e.get("result").asText());
        assertEquals(20, e.get("schedules_run").asLong());
        assertTrue(e.get("first_hang").isNull());
    }

    @Test
    void badInputIsAPreciseUsageError() {
        assertUsageError(run("explore", "no-such"), "unknown scenario 'no-such'", "reclaim-rescuer");
        assertUsageError(run("explore", "reclaim-rescuer", "--variant", "bogus"), "--variant", "unknown variant 'bogus'", "mem-reclaim");
        assertUsageError(run("explore", "reclaim-rescuer", "--strategy", "dfs"), "--strategy: unknown strategy 'dfs'", "random, pct");
        assertUsageError(run("explore", "reclaim-rescuer", "--schedules", "0"), "schedules", "at least 1");
        assertUsageError(run("explore", "reclaim-rescuer", "--schedules", "many"), "--schedules", "'many'");
        assertUsageError(run("explore", "reclaim-rescuer", "--depth", "16"), "depth", "1..15");
        assertUsageError(run("explore", "reclaim-rescuer", "--parallel", "0"), "--parallel: must be in 1..256");
        assertUsageError(run("demo", "--parallel", "0"), "--parallel: must be in 1..256", "Try 'rescuer demo --help'");
        assertUsageError(run("simbench", "--seeds", "0"), "--seeds: must be at least 1");
        assertUsageError(run("explore", "reclaim-rescuer", "--seed", "0xZZ"), "--seed", "'0xZZ' is not a seed");
        assertUsageError(run("replay", "reclaim-rescuer"), "--seed");
        assertUsageError(run("replay", "reclaim-rescuer", "--seed", "12x"), "'12x' is not a seed");
        assertUsageError(run("replay", "reclaim-rescuer", "--seed", "0x1", "--trace", "99"), "--trace", "0..64");
    }

    @Test
    void aSeedFromAnotherScenarioIsRefusedAndNamed() throws Exception {
        CliRun explore = run("explore", "reclaim-rescuer", "--variant", "no-rescuer", "--json");
        String seed = new ObjectMapper().readTree(explore.out()).get("first_hang").get("seed").asText();
        assertUsageError(run("replay", S1, "--variant", "semaphore-under-lock", "--seed", seed),
                "was not recorded for s1-cow-throttle", "it replays reclaim-rescuer --variant no-rescuer");
        assertUsageError(run("replay", "reclaim-rescuer", "--variant", "mem-reclaim", "--seed", seed),
                "it replays reclaim-rescuer --variant no-rescuer");
    }

    @Test
    void exploreJsonNamesWhatWasAskedAndALastCompletedSeedThatReplaysToCompletion() throws Exception {
        CliRun r = run("explore", S1, "--variant", "wait-unlocked", "--schedules", "6", "--seed", "0xffffffffffffffff",
                "--parallel", "2", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode e = new ObjectMapper().readTree(r.out());
        assertEquals("18446744073709551615", e.get("base_seed").asText(), "the base seed is unsigned");
        assertEquals(2, e.get("parallel").asInt());
        assertEquals(6, e.get("schedules_requested").asInt());
        String last = e.get("last_completed_seed").asText();
        CliRun replay = run("replay", S1, "--variant", "wait-unlocked", "--seed", last, "--json");
        assertEquals(0, replay.code(), replay.err());
        assertEquals("completed", new ObjectMapper().readTree(replay.out()).get("result").asText());

        CliRun hung = run("explore", S1, "--variant", "semaphore-under-lock", "--json");
        JsonNode h = new ObjectMapper().readTree(hung.out());
        long firstHang = h.get("first_hang").get("schedule").asLong();
        if (firstHang == 0) {
            assertTrue(h.get("last_completed_seed").isNull(), "no schedule before the first hang completed");
        } else {
            assertFalse(h.get("last_completed_seed").isNull());
        }

        CliRun text = run("explore", S1, "--variant", "wait-unlocked", "--schedules", "1", "--seed", "0xffffffffffffffff");
        assertTrue(text.out().contains("(pct, depth 3, base seed 18446744073709551615)"), text.out());
        CliRun random = run("explore", S1, "--variant", "wait-unlocked", "--schedules", "1", "--strategy", "random");
        assertTrue(random.out().contains("(random, base seed 1)"), "a random walk has no depth:\n" + random.out());
    }

    @Test
    void depthWithARandomWalkAndDigitsOfOtherScriptsAreRefused() {
        assertUsageError(run("explore", "reclaim-rescuer", "--strategy", "random", "--depth", "2"),
                "--depth: PCT's bug depth has no meaning with --strategy random");
        assertUsageError(run("explore", "reclaim-rescuer", "--schedules", "\u0661\u0660"), "--schedules",
                "is not a decimal integer (ASCII digits only)");
        assertUsageError(run("explore", "reclaim-rescuer", "--seed", "\u0661"), "--seed", "is not an ASCII digit");
        assertUsageError(run("replay", "reclaim-rescuer", "--seed", "0x\uff11"), "--seed", "is not an ASCII digit");
    }

    @Test
    void aSeedWithTheRightFingerprintButNoValidFieldsSaysSoWithoutContradiction() throws Exception {
        CliRun explore = run("explore", "reclaim-rescuer", "--variant", "no-rescuer", "--json");
        long seed = Long.parseUnsignedLong(new ObjectMapper().readTree(explore.out()).get("first_hang").get("seed").asText().substring(2), 16);
        long depthZero = seed & ~(15L << 42);
        CliRun r = run("replay", "reclaim-rescuer", "--variant", "no-rescuer", "--seed", String.format("0x%016x", depthZero));
        assertUsageError(r, "carries the fingerprint of reclaim-rescuer --variant no-rescuer but was not printed by explore",
                "its depth field is 0");
        assertFalse(r.err().contains("it replays"), r.err());
    }

    @Test
    void aHangReportShowsTheWorkqueueDumpOnceAndNamesVirtualTime() {
        CliRun r = run("explore", "reclaim-rescuer", "--variant", "no-rescuer");
        assertEquals(1, r.code(), r.err());
        String out = r.out();
        assertEquals(1, out.split("Showing busy workqueues", -1).length - 1, "one dump of busy workqueues:\n" + out);
        assertTrue(out.contains("BUG: workqueue lockup") && out.contains("the same busy queues as the one below"), out);
        assertTrue(out.matches("(?s).*blocked for [0-9.]+ s of virtual time on .*"), out);
    }
}
