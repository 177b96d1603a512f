package dev.rescuer.sim.explore;

import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.platform.Task;
import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.SimPlatform;
import dev.rescuer.sim.scenarios.Scenarios;
import dev.rescuer.sim.strategy.Pct;
import dev.rescuer.sim.strategy.RandomWalk;
import dev.rescuer.sim.strategy.RecordedDecisions;
import dev.rescuer.sim.strategy.Strategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A finding's seed replays it exactly; seeds are checked, parsed and printed; recorded decisions replay. */
class ReplayTest {

    /** The built-in scenarios and a second one, so that a seed can belong to another scenario. */
    private static final Explorer EXPLORER = new Explorer(java.util.List.of(Scenarios.byName("reclaim-rescuer"), new WorkqueueSemantics()));

    @Test
    void replayingAFindingsSeedReproducesItsTraceAndReport() {
        Scenario cow = Scenarios.byName("reclaim-rescuer");
        Variant bug = cow.variant("no-rescuer");
        ExploreResult explored = EXPLORER.explore(cow, bug, ExploreOptions.defaults().withSchedules(20));
        assertEquals("hang", explored.result());
        RunResult found = explored.firstFinding();
        assertNotNull(found.report());

        // The seed goes through its printed form, as a user would paste it.
        RunSeed seed = RunSeed.parse(found.seed().toString());
        assertEquals(found.seed(), seed);
        RunResult replayed = EXPLORER.replay(cow, bug, seed, explored.options().livelockBound());

        assertEquals(found.traceHash(), replayed.traceHash());
        assertEquals(found.steps(), replayed.steps());
        assertEquals(found.outcome(), replayed.outcome());
        assertEquals(found.stop(), replayed.stop());
        assertEquals(found.reason(), replayed.reason());
        assertEquals(found.virtualNanos(), replayed.virtualNanos());
        assertEquals(found.report().toText(), replayed.report().toText());
        assertEquals(found.report().toMap(), replayed.report().toMap());
        assertEquals(found.traceTail(), replayed.traceTail());
        assertEquals(0, replayed.schedule());
    }

    /**
     * A hang with two work items in flight on one pool (a kworker's and the rescuer's): the report's
     * workqueue dump (and the watchdog's lockup reports, which embed it) must list them in the same
     * order on every replay, not in an order that depends on identity hash codes.
     */
    @Test
    void replayingAHangWithTwoItemsInFlightReproducesTheSameReportText() {
        Scenario reclaim = Scenarios.byName("reclaim-rescuer");
        Variant shared = reclaim.variant("shared-queue");
        RunSeed seed = RunSeed.forSchedule(reclaim, shared, StrategyKind.PCT, 3, 1, 1);
        assertEquals("0x045b4da1658eec67", seed.toString());
        RunResult first = EXPLORER.replay(reclaim, shared, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, first.outcome());
        assertTrue(first.report().workqueueDump().contains("in-flight: ") && first.report().workqueueDump().contains(", "),
                "the check needs two items in flight on one pwq:\n" + first.report().workqueueDump());
        for (int i = 0; i < 7; i++) {
            RunResult again = EXPLORER.replay(reclaim, shared, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
            assertEquals(first.traceHash(), again.traceHash());
            assertEquals(first.report().workqueueDump(), again.report().workqueueDump(), "replay " + (i + 1));
            assertEquals(first.report().toText(), again.report().toText(), "replay " + (i + 1));
        }
    }

    @Test
    void replayingACompletedRunsSeedReproducesIt() {
        Scenario reclaim = Scenarios.byName("reclaim-rescuer");
        Variant fixed = reclaim.variant("mem-reclaim");
        RunSeed seed = RunSeed.forSchedule(reclaim, fixed, StrategyKind.RANDOM, 3, 42, 7);
        RunResult original;
        try (CarrierPool pool = new CarrierPool("replay-test")) {
            original = EXPLORER.run(reclaim, fixed, seed, 7, pool, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        }
        RunResult replayed = EXPLORER.replay(reclaim, fixed, seed, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.COMPLETED, original.outcome());
        assertEquals(original.traceHash(), replayed.traceHash());
        assertEquals(original.steps(), replayed.steps());
        assertEquals(original.virtualNanos(), replayed.virtualNanos());
    }

    @Test
    void replayRefusesASeedOfAnotherScenarioAndNamesItsOwner() {
        Scenario other = new WorkqueueSemantics();
        Scenario reclaim = Scenarios.byName("reclaim-rescuer");
        RunSeed foreign = RunSeed.forSchedule(other, WorkqueueSemantics.NORMAL, StrategyKind.PCT, 3, 1, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EXPLORER.replay(reclaim, reclaim.variant("no-rescuer"), foreign, ExploreOptions.DEFAULT_LIVELOCK_BOUND));
        assertTrue(e.getMessage().contains(other.name()), e.getMessage());
        assertTrue(e.getMessage().contains("normal"), e.getMessage());
        assertTrue(e.getMessage().contains(foreign.toString()), e.getMessage());
    }

    @Test
    void replayRefusesASeedOfAnotherVariantOfTheSameScenario() {
        Scenario cow = Scenarios.byName("reclaim-rescuer");
        RunSeed otherVariant = RunSeed.forSchedule(cow, cow.variant("mem-reclaim"), StrategyKind.RANDOM, 3, 1, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EXPLORER.replay(cow, cow.variant("no-rescuer"), otherVariant, ExploreOptions.DEFAULT_LIVELOCK_BOUND));
        assertTrue(e.getMessage().contains("mem-reclaim"), e.getMessage());
    }

    @Test
    void replayRefusesASeedNoScenarioRecorded() {
        Scenario cow = Scenarios.byName("reclaim-rescuer");
        Variant v = cow.variant("no-rescuer");
        Set<Integer> known = new HashSet<>();
        for (Scenario s : Scenarios.all()) {
            for (Variant x : s.variants()) {
                known.add(RunSeed.fingerprint(s.name(), x.name()));
            }
        }
        int unknown = 0;
        while (known.contains(unknown)) {
            unknown++;
        }
        RunSeed stray = new RunSeed(((long) unknown << 48) | (3L << RunSeed.RANDOM_BITS) | 12345);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EXPLORER.replay(cow, v, stray, ExploreOptions.DEFAULT_LIVELOCK_BOUND));
        assertTrue(e.getMessage().contains("no scenario recorded it"), e.getMessage());
    }

    @Test
    void everyVariantHasItsOwnFingerprint() {
        Set<Integer> fingerprints = new HashSet<>();
        int variants = 0;
        for (Scenario s : Scenarios.all()) {
            for (Variant v : s.variants()) {
                variants++;
                fingerprints.add(RunSeed.fingerprint(s.name(), v.name()));
                RunSeed seed = RunSeed.forSchedule(s, v, StrategyKind.PCT, 7, 99, 3);
                assertEquals(RunSeed.fingerprint(s.name(), v.name()), seed.fingerprint());
                assertEquals(StrategyKind.PCT, seed.strategy());
                assertEquals(7, seed.depth());
                seed.checkFor(s, v, Scenarios.all()); // does not throw
            }
        }
        assertEquals(variants, fingerprints.size(), "two variants share a fingerprint: replay could not tell their seeds apart");
    }

    @Test
    void seedsParseFromHexAndDecimal() {
        RunSeed s = new RunSeed(0x8f3a_0000_1234_abcdL); // negative as a long: must print and parse unsigned
        assertEquals("0x8f3a00001234abcd", s.toString());
        assertEquals(s, RunSeed.parse("0x8f3a00001234abcd"));
        assertEquals(s, RunSeed.parse("0X8F3A00001234ABCD"));
        assertEquals(s, RunSeed.parse("  0x8f3a00001234abcd \n"));
        assertEquals(s, RunSeed.parse(Long.toUnsignedString(0x8f3a_0000_1234_abcdL)));
        assertEquals(new RunSeed(12345), RunSeed.parse("12345"));
        assertEquals(new RunSeed(0x10), RunSeed.parse("0x10"));
        assertEquals(new RunSeed(-1L), RunSeed.parse("0xffffffffffffffff"));
        assertEquals(new RunSeed(-1L), RunSeed.parse("18446744073709551615"));
        for (Scenario sc : Scenarios.all()) {
            for (Variant v : sc.variants()) {
                RunSeed seed = RunSeed.forSchedule(sc, v, StrategyKind.RANDOM, 3, 5, 17);
                assertEquals(seed, RunSeed.parse(seed.toString()));
            }
        }
    }

    @Test
    void garbageSeedsAreRejectedWithAMessage() {
        for (String bad : List.of("banana", "", "0x", "0xg1", "12ab", "-5", "0x1ffffffffffffffff", "18446744073709551616", "1.5")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunSeed.parse(bad), "'" + bad + "'");
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("not a seed"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ recorded decisions

    /** Three tasks contend on a mutex; the initial task waits for them and stops the run. */
    private static SimPlatform.Stop mutexContention(SimPlatform sim, List<String> order) {
        return sim.run("init", () -> {
            Mutex m = new Mutex(sim, "m");
            List<Task> tasks = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                String name = "t" + t;
                tasks.add(sim.startThread(name, () -> {
                    for (int i = 0; i < 4; i++) {
                        m.lock();
                        order.add(name);
                        sim.preemptionPoint(); // hold the lock across a scheduling point
                        m.unlock();
                    }
                }));
            }
            for (Task t : tasks) {
                sim.join(t);
            }
            sim.stop(SimPlatform.StopKind.DONE, "all joined");
        });
    }

    @Test
    void recordedDecisionsReplayTheSameRunOnAFreshPlatform() {
        try (CarrierPool pool = new CarrierPool("recorded")) {
            Set<Long> hashes = new HashSet<>();
            for (int seed = 0; seed < 10; seed++) {
                Strategy source = seed % 2 == 0 ? new RandomWalk(seed) : new Pct(seed, 3, 60);
                RecordedDecisions recording = RecordedDecisions.recording(source);
                SimPlatform first = new SimPlatform(seed, recording, pool, 100_000);
                List<String> firstOrder = new ArrayList<>();
                SimPlatform.Stop s1 = mutexContention(first, firstOrder);
                assertEquals(SimPlatform.StopKind.DONE, s1.kind(), s1.reason());
                int[] decisions = recording.decisions();
                assertEquals(first.steps(), decisions.length, "one recorded decision per step");

                // Another platform seed: the decisions alone must decide the run (no faults are configured).
                RecordedDecisions replaying = RecordedDecisions.replaying(decisions);
                List<String> secondOrder = new ArrayList<>();
                SimPlatform second;
                SimPlatform.Stop s2;
                try (CarrierPool fresh = new CarrierPool("recorded-fresh")) {
                    second = new SimPlatform(seed + 1000, replaying, fresh, 100_000);
                    s2 = mutexContention(second, secondOrder);
                }
                assertEquals(s1, s2);
                assertEquals(first.trace().hash(), second.trace().hash(), "seed " + seed);
                assertEquals(first.steps(), second.steps());
                assertEquals(firstOrder, secondOrder);
                assertArrayEquals(decisions, replaying.decisions());
                hashes.add(first.trace().hash());
            }
            assertTrue(hashes.size() > 1, "every seed gave the same schedule: the workload has no contention");
        }
    }

    @Test
    void aReplayThatRunsOutOfDecisionsEndsTheRunAsAFailure() {
        try (CarrierPool pool = new CarrierPool("recorded")) {
            RecordedDecisions recording = RecordedDecisions.recording(new RandomWalk(3));
            SimPlatform first = new SimPlatform(3, recording, pool, 100_000);
            mutexContention(first, new ArrayList<>());
            int[] all = recording.decisions();
            assertTrue(all.length > 4);
            int[] truncated = java.util.Arrays.copyOf(all, all.length / 2);

            SimPlatform second = new SimPlatform(3, RecordedDecisions.replaying(truncated), pool, 100_000);
            SimPlatform.Stop stop = mutexContention(second, new ArrayList<>());
            assertEquals(SimPlatform.StopKind.FAILURE, stop.kind(), stop.reason());
            assertTrue(stop.reason().contains("replay diverged"), stop.reason());
            assertNotEquals(first.trace().hash(), second.trace().hash());

            // The pool is still usable: every task of the failed replay was torn down.
            SimPlatform third = new SimPlatform(3, RecordedDecisions.replaying(all), pool, 100_000);
            assertEquals(SimPlatform.StopKind.DONE, mutexContention(third, new ArrayList<>()).kind());
            assertEquals(first.trace().hash(), third.trace().hash());
        }
    }
}
