package dev.rescuer.cli.html;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of a run's trace tail ({@code dev.rescuer.sim.Trace#tail}), read back into its parts:
 * {@code step 1234 t=0.120000000s PARK kworker/0:1:7 on mutex m}.
 *
 * @param step the scheduling step
 * @param nanos the virtual time
 * @param kind START, EXIT, DECISION, PARK, WAKE, TIMEOUT, FAULT or STOP
 * @param task the task as {@code name:pid}, or {@code null} for STOP
 * @param detail the rest: what a PARK waits on, a START's name, a FAULT's failure, a STOP's reason; or
 *     {@code null}
 */
record TraceEvent(long step, long nanos, String kind, String task, String detail) {

    private static final Pattern LINE = Pattern.compile("step (\\d+) t=(\\d+)\\.(\\d{9})s ([A-Z]+)(?: (.*))?");

    /** The line's event, or {@code null} if it is not in the trace tail's format. */
    static TraceEvent parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return null;
        }
        long nanos = Long.parseLong(m.group(2)) * 1_000_000_000L + Long.parseLong(m.group(3));
        String kind = m.group(4);
        String rest = m.group(5);
        if (kind.equals("STOP") || rest == null) {
            return new TraceEvent(Long.parseLong(m.group(1)), nanos, kind, null, rest);
        }
        String task;
        String detail;
        int on = rest.indexOf(" on ");
        if (kind.equals("PARK") && on > 0) {
            task = rest.substring(0, on);
            detail = rest.substring(on + 4);
        } else {
            int sp = rest.indexOf(' ');
            task = sp < 0 ? rest : rest.substring(0, sp);
            detail = sp < 0 ? null : rest.substring(sp + 1);
        }
        return new TraceEvent(Long.parseLong(m.group(1)), nanos, kind, task, detail);
    }
}
