package dev.rescuer.sim.explore;

import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.scenarios.Scenarios;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One seed gives one run: every scenario variant is run twice per seed, the second time on a fresh
 * carrier pool (so which JVM threads carry the tasks cannot matter), and the hash of every decision
 * and event, the step count, the outcome and the virtual time must agree.
 */
class DeterminismTest {

    private static final int SEEDS = 100;
    private static final int HANGING_SEEDS = 5;
    private static final Explorer EXPLORER = new Explorer(Scenarios.all());

    @Test
    void reclaimRescuerMemReclaimIsDeterministicOver100SeedsPerStrategy() {
        checkVariant("reclaim-rescuer", "mem-reclaim", SEEDS);
    }

    @Test
    void reclaimRescuerNoRescuerIsDeterministic() {
        checkVariant("reclaim-rescuer", "no-rescuer", HANGING_SEEDS);
    }

    @Test
    void reclaimRescuerSharedQueueIsDeterministic() {
        checkVariant("reclaim-rescuer", "shared-queue", HANGING_SEEDS);
    }

    @Test
    void everyVariantIsCovered() {
        Set<String> covered = Set.of("reclaim-rescuer/mem-reclaim", "reclaim-rescuer/no-rescuer", "reclaim-rescuer/shared-queue");
        Set<String> all = new HashSet<>();
        for (Scenario s : Scenarios.all()) {
            for (Variant v : s.variants()) {
                all.add(s.name() + "/" + v.name());
            }
        }
        assertEquals(all, covered, "a new variant needs a determinism check");
    }

    /**
     * Runs schedules 0..seeds-1 of the variant under both strategies, each twice, and compares the
     * runs. The first runs share one pool across seeds (carrier reuse); each second run gets its own.
     */
    private static void checkVariant(String scenarioName, String variantName, int seeds) {
        Scenario scenario = Scenarios.byName(scenarioName);
        Variant variant = scenario.variant(variantName);
        List<String> mismatches = new ArrayList<>();
        List<String> reportMismatches = new ArrayList<>();
        try (CarrierPool shared = new CarrierPool("determinism-shared")) {
            for (StrategyKind kind : StrategyKind.values()) {
                Set<Long> hashes = new HashSet<>();
                for (int i = 0; i < seeds; i++) {
                    RunSeed seed = RunSeed.forSchedule(scenario, variant, kind, ExploreOptions.DEFAULT_DEPTH, 1, i);
                    RunResult first = EXPLORER.run(scenario, variant, seed, i, shared, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                    RunResult second;
                    try (CarrierPool fresh = new CarrierPool("determinism-fresh")) {
                        second = EXPLORER.run(scenario, variant, seed, i, fresh, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                    }
                    String what = scenarioName + "/" + variantName + " " + kind.cliName() + " schedule " + i + " seed " + seed;
                    if (first.traceHash() != second.traceHash() || first.steps() != second.steps()
                            || first.choices() != second.choices() || first.outcome() != second.outcome()
                            || first.stop() != second.stop() || first.virtualNanos() != second.virtualNanos()
                            || !first.reason().equals(second.reason()) || !first.traceTail().equals(second.traceTail())) {
                        mismatches.add(what + ": first " + summary(first) + " / second " + summary(second));
                    }
                    if ((first.report() == null) != (second.report() == null)) {
                        mismatches.add(what + ": only one run has a hang report");
                    } else if (first.report() != null && !first.report().toText().equals(second.report().toText())) {
                        reportMismatches.add(what + ": the hang reports differ (trace hashes equal), first differing line:\n"
                                + firstDifference(first.report().toText(), second.report().toText()));
                    }
                    hashes.add(first.traceHash());
                }
                // The hash must depend on the seed: different schedules take different decisions.
                int minDistinct = seeds >= 10 ? seeds / 2 : 2;
                assertTrue(hashes.size() >= minDistinct, scenarioName + "/" + variantName + " " + kind.cliName() + ": only "
                        + hashes.size() + " distinct trace hashes over " + seeds + " seeds");
            }
        }
        assertTrue(mismatches.isEmpty(), mismatches.size() + " runs did not replay identically:\n" + String.join("\n", mismatches));
        assertTrue(reportMismatches.isEmpty(), reportMismatches.size() + " runs replayed identically but reported differently:\n"
                + String.join("\n", reportMismatches));
    }

    private static String firstDifference(String a, String b) {
        String[] la = a.split("\n", -1);
        String[] lb = b.split("\n", -1);
        for (int i = 0; i < Math.min(la.length, lb.length); i++) {
            if (!la[i].equals(lb[i])) {
                return "  line " + (i + 1) + ":\n  < " + la[i] + "\n  > " + lb[i];
            }
        }
        return "  the reports have " + la.length + " and " + lb.length + " lines";
    }

    private static String summary(RunResult r) {
        return String.format("hash 0x%016x steps %d choices %d %s/%s t=%dns (%s)", r.traceHash(), r.steps(), r.choices(),
                r.outcome(), r.stop(), r.virtualNanos(), r.reason());
    }
}
