package dev.rescuer.sim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One task event of a run's trace ({@link Trace#events}): a start, exit, decision, sleep, wake-up,
 * timeout, fault or the stop.
 *
 * @param step the scheduling step it happened at
 * @param nanos the virtual time, in nanoseconds
 * @param kind what happened
 * @param task the task as {@code name:pid}; {@code null} for {@link Trace.Kind#STOP}
 * @param detail what a {@code PARK} waits on, a {@code START}'s thread name, a fault, the stop's
 *     reason; {@code null} if none
 */
public record TraceEvent(long step, long nanos, Trace.Kind kind, String task, String detail) {

    /** The event as one line: {@code step 1234 t=0.120000000s PARK kworker/0:1:7 on mutex m}. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append("step ").append(step).append(" t=")
                .append(String.format("%d.%09ds", nanos / 1_000_000_000L, nanos % 1_000_000_000L)).append(' ').append(kind);
        if (task != null) {
            sb.append(' ').append(task);
        }
        if (detail != null) {
            sb.append(kind == Trace.Kind.PARK ? " on " : " ").append(detail);
        }
        return sb.toString();
    }

    /** The event as a JSON-ready map: {@code step}, {@code virtual_time_ns}, {@code kind}, {@code task}, {@code detail}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        m.put("virtual_time_ns", nanos);
        m.put("kind", kind.name());
        m.put("task", task);
        m.put("detail", detail);
        return m;
    }

    @Override
    public String toString() {
        return text();
    }
}
