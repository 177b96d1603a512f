package dev.rescuer.sim.explore;

import dev.rescuer.sim.SimPlatform;

import java.util.List;

/**
 * One simulated run.
 *
 * @param schedule the run's index in its exploration (0 for a replay)
 * @param seed what replays it
 * @param outcome how it ended
 * @param stop the simulator's stop kind
 * @param reason why it stopped, in a sentence
 * @param steps scheduling steps taken (every pick, including those with one candidate)
 * @param choices steps with two or more candidates, where the strategy chose
 * @param virtualNanos virtual time at the stop
 * @param traceHash the hash of every decision and event
 * @param report the frozen world's report, for a hang or failure; {@code null} for a completed run
 * @param traceTail the tasks' last events up to the stop (timer firings left out), oldest first
 * @param counters the scenario's counters ({@link ScenarioContext#counter}) read at the stop, in
 *     declaration order; empty if it declared none
 */
public record RunResult(long schedule, RunSeed seed, Outcome outcome, SimPlatform.StopKind stop, String reason, long steps, long choices,
                        long virtualNanos, long traceHash, HangReport report, List<dev.rescuer.sim.TraceEvent> traceTail,
                        java.util.Map<String, Long> counters) {

    /** Counter {@code name}'s value at the stop, or {@code dflt} if the scenario declared no such counter. */
    public long counter(String name, long dflt) {
        Long v = counters.get(name);
        return v == null ? dflt : v;
    }
}
