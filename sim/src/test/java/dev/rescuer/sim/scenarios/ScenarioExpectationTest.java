package dev.rescuer.sim.scenarios;

import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every variant does what it says it does, under both strategies; the reports explain the hangs. */
class ScenarioExpectationTest {

    private static final int COMPLETING_BUDGET = 30;
    private static final Explorer EXPLORER = new Explorer(Scenarios.all());

    static Stream<Arguments> variantsAndStrategies() {
        List<Arguments> out = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            for (Variant v : s.variants()) {
                for (StrategyKind k : StrategyKind.values()) {
                    out.add(Arguments.of(s.name(), v.name(), k));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} --variant {1} --strategy {2}")
    @MethodSource("variantsAndStrategies")
    void variantBehavesAsExpected(String scenarioName, String variantName, StrategyKind kind) {
        Scenario scenario = Scenarios.byName(scenarioName);
        Variant variant = scenario.variant(variantName);
        if (variant.expected() == Variant.Expectation.COMPLETES) {
            ExploreResult r = EXPLORER.explore(scenario, variant, ExploreOptions.defaults().withStrategy(kind)
                    .withSchedules(COMPLETING_BUDGET));
            String finding = r.firstFinding() == null ? "" : r.firstFinding().reason() + "\n"
                    + (r.firstFinding().report() == null ? "" : r.firstFinding().report().toText());
            assertEquals("ok", r.result(), finding);
            assertNull(r.firstFinding());
            assertEquals(0, r.findings());
            assertEquals(COMPLETING_BUDGET, r.schedulesRun());
            assertEquals(COMPLETING_BUDGET, r.runsExecuted());
            assertEquals(Outcome.COMPLETED, r.firstRun().outcome());
            assertNull(r.firstRun().report(), "a completed run has no hang report");
        } else {
            ExploreResult r = EXPLORER.explore(scenario, variant, ExploreOptions.defaults().withStrategy(kind));
            assertEquals("hang", r.result(), "no hang in " + r.schedulesRun() + " schedules");
            RunResult f = r.firstFinding();
            assertEquals(Outcome.HANG, f.outcome());
            assertEquals(f.schedule() + 1, r.schedulesRun());
            assertNotNull(f.report(), "a hang has a report");
            assertFalse(f.report().blocked().isEmpty(), f.report().toText());
            assertFalse(f.traceTail().isEmpty());
            checkReport(scenarioName, variantName, f.report());
        }
    }

    private static void checkReport(String scenario, String variant, HangReport report) {
        String text = report.toText();
        Map<String, Object> map = report.toMap();
        assertEquals("reclaim-rescuer", scenario);
        assertFalse(((List<?>) map.get("blocked_tasks")).isEmpty(), text);
        assertNotNull(report.workqueueDump(), "a workqueue system's report has a workqueue dump");
        assertNotNull(map.get("workqueue_dump"));
        String dump = report.workqueueDump();
        // The dump shows the busy queues: the writeback queue (separate or shared) is stuck.
        assertTrue(dump.contains(variant.equals("no-rescuer") ? "workqueue writeback" : "workqueue reclaim"), dump);
        assertTrue(report.blocked().stream().anyMatch(b -> b.waitsOn().contains("writeback#")),
                "nobody waits for a writeback:\n" + text);
        // Worker creation waits for kthreadd, which waits in reclaim for an item that needs that worker.
        assertTrue(report.cycles().stream().anyMatch(c -> c.stream().anyMatch(e -> e.startsWith("kthreadd:"))
                && c.stream().anyMatch(e -> e.contains("pending: no idle worker; creating one is"))),
                "no cycle through kthreadd and the pool's worker creation:\n" + text);
        if (variant.equals("shared-queue")) {
            // The documented limit: the rescuer waits for an item only it could run.
            assertTrue(report.cycles().stream().anyMatch(c -> c.size() == 1 && c.get(0).startsWith("kworker/R-reclaim")
                    && c.get(0).endsWith("its rescuer is " + c.get(0).substring(0, c.get(0).indexOf(' ')))),
                    "no cycle of the rescuer waiting on itself:\n" + text);
            // The same cycle, structured: the rescuer releases what it waits on, and runs a writeback item as the rescuer.
            assertTrue(report.cycleLinks().stream().anyMatch(c -> c.size() == 1 && c.get(0).task().equals("kworker/R-reclaim")
                    && c.get(0).toPid() == c.get(0).pid() && c.get(0).edge().equals("releases")
                    && c.get(0).via().endsWith("its rescuer is") && c.get(0).runs() != null && c.get(0).runs().rescuer()
                    && c.get(0).runs().workqueue().equals("reclaim")), "no structured self-cycle of the rescuer:\n" + text);
            // The rescuer itself is stuck: it runs a writeback item that waits for an endio item behind it.
            assertTrue(report.blocked().stream().anyMatch(b -> b.workqueue() != null && b.workqueue().contains("(rescuer)")
                    && b.waitsOn().contains("bio#")), "the rescuer is not waiting for an I/O completion:\n" + text);
        }
        // Each structured link closes its cycle: a link's 'to' starts the next. (The text lines are the
        // links' texts by construction.)
        for (int c = 0; c < report.cycleLinks().size(); c++) {
            List<HangReport.CycleLink> links = report.cycleLinks().get(c);
            for (int i = 0; i < links.size(); i++) {
                HangReport.CycleLink l = links.get(i);
                HangReport.CycleLink next = links.get((i + 1) % links.size());
                assertEquals(next.pid(), l.toPid(), "link " + i + " of cycle " + c + " does not lead to the next:\n" + text);
                assertEquals(next.task(), l.to(), text);
                assertTrue(List.of("holds", "queued writer", "releases").contains(l.edge()), l.edge());
                assertTrue(l.text().startsWith(l.task() + ":" + l.pid() + " waits on " + l.primitiveKind() + " " + l.primitive()), l.text());
            }
        }
        assertEquals(report.cycles().size(), ((List<?>) map.get("wait_for_cycles")).size());
        assertFalse(map.containsKey("wait_for_cycle"), "one field for the cycles");
        assertTrue(text.contains("Blocked tasks:"), text);
        assertTrue(report.kind().equals("hung task"), report.kind());
    }

    @Test
    void estimatedStepsMatchTheCompletingVariantsMedianWithinAFactorOfThree() {
        try (CarrierPool pool = new CarrierPool("estimate")) {
            for (Scenario s : Scenarios.all()) {
                Variant completing = s.variants().stream().filter(v -> v.expected() == Variant.Expectation.COMPLETES)
                        .findFirst().orElseThrow(() -> new AssertionError(s.name() + " has no completing variant"));
                List<Long> steps = new ArrayList<>();
                for (StrategyKind k : StrategyKind.values()) {
                    for (int i = 0; i < 15; i++) {
                        RunSeed seed = RunSeed.forSchedule(s, completing, k, ExploreOptions.DEFAULT_DEPTH, 7, i);
                        RunResult r = EXPLORER.run(s, completing, seed, i, pool, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
                        assertEquals(Outcome.COMPLETED, r.outcome(), r.reason());
                        steps.add(r.steps());
                    }
                }
                Collections.sort(steps);
                long median = steps.get(steps.size() / 2);
                long estimate = s.estimatedSteps();
                assertTrue(estimate * 3 >= median && median * 3 >= estimate,
                        s.name() + ": estimatedSteps " + estimate + " but the median run of " + completing.name() + " takes " + median + " steps");
            }
        }
    }

    @Test
    void everyScenarioHasAHangingAndACompletingVariantAndUniqueNames() {
        List<String> names = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            names.add(s.name());
            assertTrue(s.variants().stream().anyMatch(v -> v.expected() == Variant.Expectation.HANGS), s.name());
            assertTrue(s.variants().stream().anyMatch(v -> v.expected() == Variant.Expectation.COMPLETES), s.name());
            assertEquals(s.variants().size(), s.variants().stream().map(Variant::name).distinct().count(), s.name());
            assertFalse(s.description().isBlank());
            assertEquals(s.variants().get(0), s.variant(s.variants().get(0).name()));
        }
        assertEquals(names.size(), names.stream().distinct().count());
    }
}
