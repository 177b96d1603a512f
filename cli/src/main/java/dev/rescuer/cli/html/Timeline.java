package dev.rescuer.cli.html;

import dev.rescuer.sim.TraceEvent;
import dev.rescuer.sim.explore.HangReport;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The tasks of a run on the virtual clock up to its stop, as an SVG: one lane per task, from the run's
 * trace tail (the tasks' last events) and the hang report's blocked tasks.
 *
 * <p>In a lane, a bar is a sleep (from PARK to the WAKE or TIMEOUT that ended it; red when the task is
 * still blocked at the stop and the report lists it, grey when it is an idle sleep the report leaves
 * out), a green tick a step the task ran (DECISION), a circle a start, a square an exit, a cross an
 * injected fault. A task the report lists as blocked since before the trace's first event gets a bar
 * from the left edge.
 *
 * <p><b>The time axis.</b> The simulator advances virtual time by a microsecond per step and jumps it
 * to the next timer when every task sleeps, so a hang found after 240 s has its events packed into the
 * first few milliseconds. The axis therefore places the events in step order, {@value #EVENT_PX} px
 * apart, and adds {@value #GAP_PX} px per decade of each jump of virtual time between two events
 * (log10(1 + gap / 1 µs)): the order and the rough size of each gap are visible, and each labelled
 * tick gives the true virtual time.
 */
final class Timeline {

    static final int EVENT_PX = 9;
    static final int GAP_PX = 12;
    private static final double LANE_PX = 22;
    private static final double AXIS_PX = 34;
    private static final double CHAR_PX = 7.3;
    private static final double LABEL_SPACING_PX = 90;

    private Timeline() {
    }

    /** One sleep in a lane. */
    private record Sleep(double x0, double x1, String on, long from, long to, String state) {
    }

    /**
     * The SVG for {@code events} (a run's trace tail, oldest first) and {@code report} (or
     * {@code null}); {@code null} when there is no event to draw.
     */
    static String svg(List<TraceEvent> events, HangReport report) {
        if (events.isEmpty()) {
            return null;
        }
        Map<String, HangReport.BlockedTask> blocked = new LinkedHashMap<>();
        if (report != null) {
            for (HangReport.BlockedTask b : report.blocked()) {
                blocked.put(b.task() + ":" + b.id(), b);
            }
        }
        List<String> lanes = new ArrayList<>();
        for (TraceEvent e : events) {
            if (e.task() != null && !lanes.contains(e.task())) {
                lanes.add(e.task());
            }
        }
        for (String t : blocked.keySet()) {
            if (!lanes.contains(t)) {
                lanes.add(t);
            }
        }
        int labelChars = "task".length();
        for (String l : lanes) {
            labelChars = Math.max(labelChars, l.length());
        }
        double left = labelChars * CHAR_PX + 16;
        double[] xs = new double[events.size()];
        double x = left + EVENT_PX;
        for (int i = 0; i < events.size(); i++) {
            if (i > 0) {
                long gap = events.get(i).nanos() - events.get(i - 1).nanos();
                x += EVENT_PX + GAP_PX * Math.log10(1 + Math.max(0, gap) / 1000.0);
            }
            xs[i] = x;
        }
        double end = x + EVENT_PX;
        double width = end + 60; // room for the last time label, centred on the last event
        double height = AXIS_PX + lanes.size() * LANE_PX + 10;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"timeline of the tasks\" width=\"")
                .append(Html.num(width)).append("\" height=\"").append(Html.num(height)).append("\" viewBox=\"0 0 ")
                .append(Html.num(width)).append(' ').append(Html.num(height)).append("\">\n");
        axis(sb, events, xs, height);
        for (int li = 0; li < lanes.size(); li++) {
            lane(sb, lanes.get(li), AXIS_PX + li * LANE_PX, events, xs, left, end, blocked);
        }
        sb.append("</svg>");
        return sb.toString();
    }

    private static void axis(StringBuilder sb, List<TraceEvent> events, double[] xs, double height) {
        sb.append("<g class=\"axis\">");
        double lastLabel = -1e9;
        for (int i = 0; i < events.size(); i++) {
            boolean jump = i == 0 || events.get(i).nanos() - events.get(i - 1).nanos() >= 1_000_000;
            boolean last = i == events.size() - 1;
            if ((jump && xs[i] - lastLabel >= LABEL_SPACING_PX) || last) {
                String t = seconds(events.get(i).nanos());
                sb.append("<line x1=\"").append(Html.num(xs[i])).append("\" y1=\"").append(Html.num(AXIS_PX - 8))
                        .append("\" x2=\"").append(Html.num(xs[i])).append("\" y2=\"").append(Html.num(height - 6))
                        .append("\"/><text x=\"").append(Html.num(xs[i])).append("\" y=\"").append(Html.num(AXIS_PX - 12))
                        .append("\">").append(Html.text(t)).append("</text>");
                lastLabel = xs[i];
            }
        }
        sb.append("</g>\n");
    }

    private static void lane(StringBuilder sb, String task, double y, List<TraceEvent> events, double[] xs, double left,
                             double end, Map<String, HangReport.BlockedTask> blocked) {
        sb.append("<g class=\"lane\" data-task=\"").append(Html.text(task)).append("\"><text class=\"lane-label\" x=\"")
                .append(Html.num(left - 8)).append("\" y=\"").append(Html.num(y + LANE_PX * 0.68)).append("\">")
                .append(Html.text(task)).append("</text><line class=\"lane-line\" x1=\"").append(Html.num(left))
                .append("\" y1=\"").append(Html.num(y + LANE_PX / 2)).append("\" x2=\"").append(Html.num(end))
                .append("\" y2=\"").append(Html.num(y + LANE_PX / 2)).append("\"/>");
        List<Sleep> sleeps = new ArrayList<>();
        Set<Integer> marks = new HashSet<>();
        Double parkedAt = null;
        String parkedOn = null;
        long parkedNanos = 0;
        boolean exited = false;
        for (int i = 0; i < events.size(); i++) {
            TraceEvent e = events.get(i);
            if (!task.equals(e.task())) {
                continue;
            }
            switch (e.kind().name()) {
                case "PARK" -> {
                    parkedAt = xs[i];
                    parkedOn = e.detail();
                    parkedNanos = e.nanos();
                }
                case "WAKE", "TIMEOUT" -> {
                    if (parkedAt != null) {
                        sleeps.add(new Sleep(parkedAt, xs[i], parkedOn, parkedNanos, e.nanos(), "slept"));
                        parkedAt = null;
                    }
                    marks.add(i);
                }
                case "EXIT" -> {
                    exited = true;
                    marks.add(i);
                }
                default -> marks.add(i);
            }
        }
        long stop = events.get(events.size() - 1).nanos();
        HangReport.BlockedTask b = blocked.get(task);
        if (parkedAt != null) {
            sleeps.add(new Sleep(parkedAt, end, parkedOn, parkedNanos, stop, b != null ? "blocked" : "idle"));
        } else if (b != null && !exited) {
            // Blocked since before the trace's first event.
            sleeps.add(new Sleep(left, end, b.waitsOn(), stop - b.blockedNanos(), stop, "blocked"));
        }
        for (Sleep s : sleeps) {
            sb.append("<rect class=\"sleep ").append(s.state()).append("\" data-on=\"").append(Html.text(s.on()))
                    .append("\" x=\"").append(Html.num(s.x0())).append("\" y=\"").append(Html.num(y + 5)).append("\" width=\"")
                    .append(Html.num(Math.max(2, s.x1() - s.x0()))).append("\" height=\"").append(Html.num(LANE_PX - 10))
                    .append("\"><title>").append(Html.text(task + " " + (s.state().equals("slept") ? "slept" : s.state().equals("idle")
                            ? "idle (not reported)" : "blocked") + " on " + s.on() + " from t=" + seconds(s.from()) + " to t="
                            + seconds(s.to()) + " of virtual time")).append("</title></rect>");
            double textWidth = s.on() == null ? 0 : s.on().length() * 6.2;
            if (s.x1() - s.x0() > textWidth + 10) {
                sb.append("<text class=\"sleep-label\" x=\"").append(Html.num(s.x0() + 5)).append("\" y=\"")
                        .append(Html.num(y + LANE_PX * 0.68)).append("\">").append(Html.text(s.on())).append("</text>");
            }
        }
        for (int i : marks) {
            mark(sb, events.get(i), xs[i], y + LANE_PX / 2);
        }
        sb.append("</g>\n");
    }

    private static void mark(StringBuilder sb, TraceEvent e, double x, double cy) {
        String title = Html.text("step " + e.step() + ", t=" + seconds(e.nanos()) + ": " + e.kind() + " " + e.task()
                + (e.detail() == null ? "" : " " + e.detail()));
        String kind = e.kind().name().toLowerCase(Locale.ROOT);
        switch (e.kind().name()) {
            case "START" -> sb.append("<circle class=\"mark ").append(kind).append("\" cx=\"").append(Html.num(x))
                    .append("\" cy=\"").append(Html.num(cy)).append("\" r=\"4\">");
            case "EXIT" -> sb.append("<rect class=\"mark ").append(kind).append("\" x=\"").append(Html.num(x - 4))
                    .append("\" y=\"").append(Html.num(cy - 4)).append("\" width=\"8\" height=\"8\">");
            case "FAULT" -> sb.append("<path class=\"mark ").append(kind).append("\" d=\"M").append(Html.num(x - 4)).append(',')
                    .append(Html.num(cy - 4)).append(" l8,8 m0,-8 l-8,8\">");
            default -> sb.append("<rect class=\"mark ").append(kind).append("\" x=\"").append(Html.num(x - 2))
                    .append("\" y=\"").append(Html.num(cy - 6)).append("\" width=\"4\" height=\"12\">");
        }
        sb.append("<title>").append(title).append("</title>");
        sb.append(switch (e.kind().name()) {
            case "START" -> "</circle>";
            case "FAULT" -> "</path>";
            default -> "</rect>";
        });
    }

    private static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.6f s", nanos / 1e9);
    }
}
