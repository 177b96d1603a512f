package dev.rescuer.sim.explore;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The result of an exploration.
 *
 * @param scenario the scenario's name
 * @param variant the variant's name
 * @param options how it was explored
 * @param schedulesRun schedules up to and including the first finding, or all of them; it does not
 *     depend on {@code --parallel}
 * @param stopped whether an {@link ExploreMonitor} stopped the exploration before it ran what it was
 *     asked for; then {@code schedulesRun} counts the schedules {@code 0..k-1} that had all finished
 * @param firstFinding the lowest-numbered schedule that hung or failed, or {@code null}
 * @param firstRun schedule 0, or {@code null} if the exploration was stopped before it finished
 * @param lastCompletedSeed the seed of the highest-numbered schedule among the first {@code schedulesRun}
 *     that completed, which {@code replay} runs again; {@code null} if none did
 * @param findings how many of the first {@code schedulesRun} schedules hung or failed (1 when
 *     stopping at the first); independent of {@code parallel}
 * @param totalSteps scheduling decisions over every run executed, including any run past the first
 *     finding by other threads
 * @param totalChoices of those steps, the ones with two or more candidates
 * @param runsExecuted runs executed, likewise
 * @param elapsedNanos wall-clock time of the exploration
 */
public record ExploreResult(String scenario, String variant, ExploreOptions options, long schedulesRun, boolean stopped, RunResult firstFinding,
                            RunResult firstRun, RunSeed lastCompletedSeed, long findings, long totalSteps, long totalChoices, long runsExecuted, long elapsedNanos) {

    /**
     * The version of the command line's JSON ({@code json_version} in every object explore, check,
     * demo, replay and analyze print; docs/JSON.md). It changes when a field is renamed, removed or
     * changes its type; new fields do not change it.
     */
    public static final int JSON_VERSION = 1;

    /** {@code "ok"}, {@code "hang"} or {@code "failure"}. */
    public String result() {
        if (firstFinding == null) {
            return "ok";
        }
        return firstFinding.outcome() == Outcome.HANG ? "hang" : "failure";
    }

    /** Scheduling decisions per wall-clock second, over every thread. */
    public double stepsPerSecond() {
        return elapsedNanos == 0 ? 0 : totalSteps * 1e9 / elapsedNanos;
    }

    /** Scheduling steps with two or more candidates per wall-clock second, over every thread. */
    public double choicesPerSecond() {
        return elapsedNanos == 0 ? 0 : totalChoices * 1e9 / elapsedNanos;
    }

    /** Runs per wall-clock second, over every thread. */
    public double schedulesPerSecond() {
        return elapsedNanos == 0 ? 0 : runsExecuted * 1e9 / elapsedNanos;
    }

    /** The result as the CLI's JSON object. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("json_version", JSON_VERSION);
        m.put("scenario", scenario);
        m.put("variant", variant);
        m.put("strategy", options.strategy().cliName());
        m.put("depth", options.depth());
        m.put("base_seed", Long.toUnsignedString(options.seed()));
        m.put("parallel", options.parallel());
        m.put("schedules_requested", options.schedules());
        m.put("schedules_run", schedulesRun);
        m.put("stopped_early", stopped);
        m.put("result", result());
        m.put("schedules_hung_or_failed", findings);
        if (firstFinding == null) {
            m.put("first_hang", null);
        } else {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("schedule", firstFinding.schedule());
            h.put("seed", firstFinding.seed().toString());
            h.put("steps", firstFinding.steps());
            h.put("report", firstFinding.report() == null ? null : firstFinding.report().toMap());
            m.put("first_hang", h);
        }
        m.put("last_completed_seed", lastCompletedSeed == null ? null : lastCompletedSeed.toString());
        m.put("steps_per_second", Math.round(stepsPerSecond()));
        m.put("choices_per_second", Math.round(choicesPerSecond()));
        m.put("schedules_per_second", Math.round(schedulesPerSecond() * 10) / 10.0);
        m.put("trace_hash_of_first_run", firstRun == null ? null : String.format("0x%016x", firstRun.traceHash()));
        m.put("elapsed_ms", elapsedNanos / 1_000_000);
        return m;
    }
}
