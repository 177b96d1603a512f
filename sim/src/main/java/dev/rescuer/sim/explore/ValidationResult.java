package dev.rescuer.sim.explore;

import dev.rescuer.check.Dependency;
import dev.rescuer.check.LockClass;
import dev.rescuer.check.PotentialCycle;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the validator found over a variant's schedules ({@link Explorer#validate}).
 *
 * @param scenario the scenario's name
 * @param variant the variant's name
 * @param schedulesRun every schedule run (all of them: validation never stops at a hang)
 * @param validatedSchedules the schedules that completed, whose dependencies the validator searched
 * @param hangs the schedules that hung or failed, whose dependencies are not used
 * @param cycles every distinct potential cycle (by its chain of classes), with the first schedule
 *     that recorded it, in order of that schedule
 */
public record ValidationResult(String scenario, String variant, long schedulesRun, long validatedSchedules, long hangs,
                               List<Found> cycles) {

    /** Copies the list. */
    public ValidationResult {
        cycles = List.copyOf(cycles);
    }

    /**
     * One potential cycle and where it was first seen.
     *
     * @param cycle the cycle, as the validator of that schedule recorded it
     * @param schedule the schedule's index
     * @param seed the schedule's seed, to replay it
     */
    public record Found(PotentialCycle cycle, long schedule, RunSeed seed) {
    }

    /** The report of every cycle, each headed by the schedule and seed it came from; empty if none. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        for (Found f : cycles) {
            sb.append("potential cycle in completed schedule ").append(f.schedule()).append(" (seed ")
                    .append(f.seed()).append("):\n").append(f.cycle().format()).append('\n');
        }
        return sb.toString();
    }

    /** The fields a JSON report adds to the variant's object: {@code validated_schedules}, {@code potential_cycles}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("validated_schedules", validatedSchedules);
        List<Object> list = new ArrayList<>();
        for (Found f : cycles) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("chain", f.cycle().chain());
            List<String> classes = new ArrayList<>();
            for (LockClass lc : f.cycle().classes()) {
                classes.add(lc.toString());
            }
            c.put("classes", classes);
            c.put("tasks", f.cycle().tasks());
            List<Object> links = new ArrayList<>();
            for (Dependency d : f.cycle().links()) {
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("from", d.from().toString());
                l.put("to", d.to().toString());
                l.put("type", d.type().name().toLowerCase(java.util.Locale.ROOT));
                l.put("task", d.task());
                l.put("what", d.describe());
                l.put("first_recorded_at", d.stack().isEmpty() ? "" : d.stack().get(0).toString());
                links.add(l);
            }
            c.put("links", links);
            c.put("schedule", f.schedule());
            c.put("seed", f.seed().toString());
            list.add(c);
        }
        m.put("potential_cycles", list);
        return m;
    }
}
