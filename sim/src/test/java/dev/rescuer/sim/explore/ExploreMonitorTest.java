package dev.rescuer.sim.explore;

import dev.rescuer.sim.scenarios.Scenarios;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An {@link ExploreMonitor} sees every finished schedule, and a stop it asks for ends the exploration
 * with a result that counts only a prefix of schedules that all ran.
 */
class ExploreMonitorTest {

    private static final Scenario RECLAIM = Scenarios.byName("reclaim-rescuer");
    private static final Explorer EXPLORER = new Explorer(java.util.List.of(RECLAIM));

    /** Asks to stop once {@code after} schedules have finished, and counts what it was told. */
    private static final class StopAfter extends ExploreMonitor {
        final long after;
        final AtomicLong calls = new AtomicLong();
        volatile long lastRequested;

        StopAfter(long after) {
            this.after = after;
        }

        @Override
        public void scheduleFinished(long finished, long findings, long requested) {
            calls.incrementAndGet();
            lastRequested = requested;
            if (finished >= after) {
                requestStop();
            }
        }
    }

    @Test
    void aMonitorThatNeverStopsSeesEverySchedule() {
        StopAfter m = new StopAfter(Long.MAX_VALUE);
        ExploreOptions o = ExploreOptions.defaults().withSchedules(12).withParallel(2);
        ExploreResult r = EXPLORER.explore(RECLAIM, RECLAIM.variant("mem-reclaim"), o, m);
        assertEquals(12, m.calls.get());
        assertEquals(12, m.lastRequested);
        assertFalse(r.stopped());
        assertEquals(12, r.schedulesRun());
    }

    @Test
    void aStopCountsTheFinishedPrefixAndAgreesWithTheFullRunOnIt() {
        ExploreOptions o = ExploreOptions.defaults().withSchedules(40).withSeed(5);
        Variant fixed = RECLAIM.variant("mem-reclaim");
        ExploreResult stopped = EXPLORER.explore(RECLAIM, fixed, o, new StopAfter(7));
        assertTrue(stopped.stopped());
        assertEquals(7, stopped.schedulesRun(), "one thread: exactly the schedules that finished");
        assertEquals(7, stopped.runsExecuted());
        assertNull(stopped.firstFinding());
        ExploreResult seven = EXPLORER.explore(RECLAIM, fixed, o.withSchedules(7));
        assertEquals(seven.lastCompletedSeed(), stopped.lastCompletedSeed(), "the same schedules, the same seeds");
        assertEquals(seven.firstRun().traceHash(), stopped.firstRun().traceHash());

        ExploreResult two = EXPLORER.explore(RECLAIM, fixed, o.withParallel(2), new StopAfter(7));
        assertTrue(two.stopped());
        assertTrue(two.schedulesRun() >= 6 && two.schedulesRun() <= two.runsExecuted(),
                "two threads: a prefix of the schedules that ran (" + two.schedulesRun() + " of " + two.runsExecuted() + ")");
    }

    @Test
    void aHangFoundBeforeTheStopIsStillTheResult() {
        ExploreOptions o = ExploreOptions.defaults().withSchedules(40).runningAll();
        ExploreResult r = EXPLORER.explore(RECLAIM, RECLAIM.variant("no-rescuer"), o, new StopAfter(3));
        assertTrue(r.stopped());
        assertEquals(3, r.schedulesRun());
        assertEquals("hang", r.result());
        assertEquals(0, r.firstFinding().schedule());
    }
}
