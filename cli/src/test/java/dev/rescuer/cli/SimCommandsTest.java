package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code explore} and {@code replay}: their JSON contracts, exit codes and errors for bad input. */
class SimCommandsTest {

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
        CliRun buggy = run("explore", "cow-throttle", "--variant", "semaphore-under-lock", "--schedules", "20", "--validate", "--json");
        assertEquals(1, buggy.code(), buggy.err());
        JsonNode b = new ObjectMapper().readTree(buggy.out());
        assertTrue(b.get("validated_schedules").asLong() > 0, buggy.out());
        JsonNode cycles = b.get("potential_cycles");
        assertEquals(1, cycles.size(), buggy.out());
        assertEquals("_origins_lock -> &s->cow_count -> _origins_lock", cycles.get(0).get("chain").asText());
        assertEquals(2, cycles.get(0).get("links").size());
        assertTrue(cycles.get(0).get("tasks").toString().contains("drbd_r/"), buggy.out());

        CliRun fixed = run("explore", "cow-throttle", "--variant", "wait-unlocked", "--schedules", "20", "--validate");
        assertEquals(0, fixed.code(), fixed.out() + fixed.err());
        assertTrue(fixed.out().contains("validator: 20 of 20 schedules completed and were validated (0 hung or failed); 0 potential cycle(s)"),
                fixed.out());
    }

    @Test
    void exploreFindsTheCowThrottleHangAndReplayReproducesItExactly() throws Exception {
        CliRun explore = run("explore", "cow-throttle", "--variant", "semaphore-under-lock", "--json");
        assertEquals(1, explore.code(), "a hang found exits 1:\n" + explore.err());
        JsonNode e = new ObjectMapper().readTree(explore.out());
        assertEquals("cow-throttle", e.get("scenario").asText());
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
        assertTrue(report.get("wait_for_cycle").toString().contains("_origins_lock"), report.toString());

        CliRun replay = run("replay", "cow-throttle", "--variant", "semaphore-under-lock", "--seed", seed, "--json");
        assertEquals(1, replay.code(), replay.err());
        JsonNode r = new ObjectMapper().readTree(replay.out());
        assertEquals(seed, r.get("seed").asText());
        assertEquals("hang", r.get("result").asText());
        assertEquals(report, r.get("report"), "the replay's report is the explored run's report");
        assertEquals(hang.get("steps").asLong(), r.get("steps").asLong());
        assertFalse(r.get("trace").isEmpty(), "replay shows the trace before the hang");

        CliRun inferred = run("replay", "cow-throttle", "--seed", seed, "--json");
        assertEquals(r.get("trace_hash"), new ObjectMapper().readTree(inferred.out()).get("trace_hash"),
                "without --variant the seed's own variant is replayed");
    }

    @Test
    void exploreOfAVariantThatCompletesExitsZero() throws Exception {
        CliRun r = run("explore", "cow-throttle", "--variant", "wait-unlocked", "--schedules", "20", "--strategy", "random", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode e = new ObjectMapper().readTree(r.out());
        assertEquals("ok", e.get("result").asText());
        assertEquals(20, e.get("schedules_run").asLong());
        assertTrue(e.get("first_hang").isNull());
    }

    @Test
    void badInputIsAPreciseUsageError() {
        assertUsageError(run("explore", "no-such"), "unknown scenario 'no-such'", "reclaim-rescuer", "cow-throttle");
        assertUsageError(run("explore", "cow-throttle", "--variant", "bogus"), "--variant", "unknown variant 'bogus'", "wait-unlocked");
        assertUsageError(run("explore", "cow-throttle", "--strategy", "dfs"), "--strategy: unknown strategy 'dfs'", "random, pct");
        assertUsageError(run("explore", "cow-throttle", "--schedules", "0"), "schedules", "at least 1");
        assertUsageError(run("explore", "cow-throttle", "--schedules", "many"), "--schedules", "'many'");
        assertUsageError(run("explore", "cow-throttle", "--depth", "16"), "depth", "1..15");
        assertUsageError(run("explore", "cow-throttle", "--parallel", "0"), "--parallel: must be in 1..256");
        assertUsageError(run("demo", "--parallel", "0"), "--parallel: must be in 1..256", "Try 'rescuer demo --help'");
        assertUsageError(run("simbench", "--seeds", "0"), "--seeds: must be at least 1");
        assertUsageError(run("explore", "cow-throttle", "--seed", "0xZZ"), "--seed", "'0xZZ' is not a seed");
        assertUsageError(run("replay", "cow-throttle"), "--seed");
        assertUsageError(run("replay", "cow-throttle", "--seed", "12x"), "'12x' is not a seed");
        assertUsageError(run("replay", "cow-throttle", "--seed", "0x1", "--trace", "99"), "--trace", "0..64");
    }

    @Test
    void aSeedFromAnotherScenarioIsRefusedAndNamed() throws Exception {
        CliRun explore = run("explore", "reclaim-rescuer", "--variant", "no-rescuer", "--json");
        String seed = new ObjectMapper().readTree(explore.out()).get("first_hang").get("seed").asText();
        assertUsageError(run("replay", "cow-throttle", "--variant", "semaphore-under-lock", "--seed", seed),
                "was not recorded for cow-throttle", "it replays reclaim-rescuer --variant no-rescuer");
        assertUsageError(run("replay", "reclaim-rescuer", "--variant", "mem-reclaim", "--seed", seed),
                "it replays reclaim-rescuer --variant no-rescuer");
    }
}
