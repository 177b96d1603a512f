package dev.rescuer.cli.html;

import dev.rescuer.analyze.Analysis;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.storage.deps.WaitGraph;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --html} page of {@code demo}, {@code explore}, {@code replay}, {@code check} and
 * {@code analyze} (its dependency graph and plan, {@link #analysis}): one
 * self-contained HTML file (all CSS, SVG and script inline; nothing loaded from anywhere) with the
 * result table and, for each hang, its wait-for cycles drawn as graphs ({@link CycleGraph}), a
 * timeline of the tasks on the virtual clock ({@link Timeline}), the blocked tasks, and the hung-task
 * reports, the watchdog's reports, the workqueue dump, the trace and the text report folded in
 * {@code <details>}. Every name and report text is escaped ({@link Html#text}).
 *
 * <p>The page's script only checks the drawing once the browser has laid it out: it counts the
 * graphs' nodes and the pairs of node boxes that overlap, and records both on {@code <body>} as
 * {@code data-nodes} and {@code data-overlaps} (the browser test reads them). Build the page with
 * {@link #table} and {@link #paragraph} (shown in the order called, at the top), then {@link #hang}
 * for each run (its sections follow, with links to them when there are several), then
 * {@link #write} it.
 */
public final class HtmlReport {

    private static final String STYLE = """
            body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-top: 1px solid #ccc; padding-top: .8em; }
            h3 { font-size: 1em; margin-bottom: .3em; }
            table { border-collapse: collapse; font-size: .9em; }
            th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
            th { background: #f2f2f2; } tr.unexpected td { background: #fdecea; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            code, pre { font-family: ui-monospace, monospace; font-size: .85em; }
            pre { background: #f7f7f7; padding: .6em; overflow-x: auto; white-space: pre; }
            details { margin: .4em 0; } summary { cursor: pointer; font-weight: 600; }
            .scroll { overflow-x: auto; border: 1px solid #eee; }
            .legend span { display: inline-block; margin-right: 1.2em; font-size: .85em; }
            .legend i { display: inline-block; width: 1.6em; height: .25em; vertical-align: middle; margin-right: .3em; }
            svg text { font-family: ui-monospace, monospace; font-size: 12px; }
            svg.graph .node text { text-anchor: middle; }
            svg.graph .node rect { stroke-width: 1.5; }
            svg.graph .node.task rect { fill: #fdf2e9; stroke: #a04000; }
            svg.graph .node.primitive rect { fill: #eaf2f8; stroke: #1f618d; }
            svg.graph .node.work rect { fill: #e9f7ef; stroke: #1e8449; }
            svg.graph .node.workqueue rect { fill: #f4ecf7; stroke: #76448a; }
            svg.graph.deps .node.queue rect { fill: #fdecea; stroke: #b03a2e; }
            svg.graph.deps .node.queue.rescued rect { fill: #e9f7ef; stroke: #1e8449; }
            svg.graph.deps .node.device rect { fill: #eaf2f8; stroke: #1f618d; }
            svg.graph.deps .node.reclaim rect { fill: #fef9e7; stroke: #b7950b; }
            svg.graph.deps .node.point rect { fill: #f4f6f6; stroke: #707b7c; }
            svg.graph .edge path { fill: none; stroke-width: 1.6; }
            svg.graph .edge text { text-anchor: middle; font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 4px; }
            svg.timeline .axis line { stroke: #ddd; } svg.timeline .axis text { font-size: 10px; text-anchor: middle; fill: #555; }
            svg.timeline .lane-label { text-anchor: end; } svg.timeline .lane-line { stroke: #eee; }
            svg.timeline .sleep.slept { fill: #f8c471; } svg.timeline .sleep.blocked { fill: #e6b0aa; stroke: #b03a2e; }
            svg.timeline .sleep.idle { fill: #e5e7e9; }
            svg.timeline .sleep-label { font-size: 10px; fill: #333; pointer-events: none; }
            svg.timeline .mark { fill: #1e8449; } svg.timeline .mark.park { fill: #ca6f1e; }
            svg.timeline .mark.wake, svg.timeline .mark.timeout { fill: #1f618d; }
            svg.timeline .mark.start { fill: #fff; stroke: #1e8449; stroke-width: 2; }
            svg.timeline .mark.exit { fill: #222; } svg.timeline .mark.fault { stroke: #c0392b; stroke-width: 2.5; }
            """;

    private static final String CHECK_SCRIPT = """
            window.addEventListener('load', function () {
              var nodes = 0, overlaps = 0;
              document.querySelectorAll('svg.graph').forEach(function (svg) {
                var boxes = Array.from(svg.querySelectorAll('g.node rect')).map(function (r) { return r.getBoundingClientRect(); });
                nodes += boxes.length;
                for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) {
                  var a = boxes[i], b = boxes[j];
                  if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
                }
              });
              document.body.dataset.nodes = nodes;
              document.body.dataset.overlaps = overlaps;
            });
            """;

    private final StringBuilder top = new StringBuilder();
    private final StringBuilder sections = new StringBuilder();
    private final List<String> headings = new ArrayList<>();
    private final String title;
    private int hangs;

    /**
     * A page titled {@code title}, saying under the title that {@code commandLine} made it.
     */
    public HtmlReport(String title, String commandLine) {
        this.title = title;
        top.append("<h1>").append(Html.text(title)).append("</h1>\n<p>Made by <code>").append(Html.text(commandLine))
                .append("</code>. Times are virtual time on the simulator's clock unless marked wall-clock.</p>\n");
    }

    /** A paragraph of plain text. */
    public HtmlReport paragraph(String text) {
        top.append("<p>").append(Html.text(text)).append("</p>\n");
        return this;
    }

    /**
     * A table: {@code header}, then {@code rows} (each as long as the header); a row whose entry in
     * {@code unexpected} is true is highlighted. Cells that parse as numbers are right-aligned.
     */
    public HtmlReport table(List<String> header, List<List<String>> rows, List<Boolean> unexpected) {
        top.append("<table class=\"results\">\n<tr>");
        for (String h : header) {
            top.append("<th>").append(Html.text(h)).append("</th>");
        }
        top.append("</tr>\n");
        for (int i = 0; i < rows.size(); i++) {
            List<String> row = rows.get(i);
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row " + i + " has " + row.size() + " cells, the header " + header.size());
            }
            top.append(unexpected.get(i) ? "<tr class=\"unexpected\">" : "<tr>");
            for (String c : row) {
                top.append(c != null && c.matches("-?[0-9][0-9.,]*s?") ? "<td class=\"num\">" : "<td>")
                        .append(Html.text(c)).append("</td>");
            }
            top.append("</tr>\n");
        }
        top.append("</table>\n");
        return this;
    }

    /**
     * A section for one run that hung or failed (or, for {@code replay}, any run): its reason, the
     * command that replays it, its wait-for cycles as graphs (or its wait-for chains when there is no
     * cycle), its timeline, its blocked tasks, and the long reports folded.
     */
    public HtmlReport hang(String heading, String replayCommand, RunResult run) {
        int n = ++hangs;
        headings.add(heading);
        HangReport r = run.report();
        sections.append("<section class=\"hang\" id=\"hang-").append(n).append("\">\n<h2>").append(Html.text(heading)).append("</h2>\n");
        sections.append(String.format(Locale.ROOT, "<p class=\"reason\"><b>%s</b>: %s<br>after %d scheduling steps, at %.3f s of virtual time</p>%n",
                Html.text(run.outcome().name().toLowerCase(Locale.ROOT) + (r == null ? "" : " (" + r.kind() + ")")),
                Html.text(run.reason()), run.steps(), run.virtualNanos() / 1e9));
        sections.append("<p>Replay: <code>").append(Html.text(replayCommand)).append("</code></p>\n");
        if (r != null) {
            cycles(r, n);
        }
        String timeline = Timeline.svg(run.traceTail(), r);
        if (timeline != null) {
            sections.append("<h3>Timeline: the last ").append(run.traceTail().size())
                    .append(" task events up to the stop</h3>\n<div class=\"scroll\">").append(timeline).append("</div>\n")
                    .append("<p class=\"legend\">Bars: a sleep (orange; red: still blocked at the stop; grey: an idle sleep). ")
                    .append("Ticks: green a step run, orange a park, blue a wake or timeout; circle: a start; square: an exit; ")
                    .append("cross: an injected fault. Events are in step order; a jump of virtual time adds space growing with ")
                    .append("its logarithm; the labels give virtual time.</p>\n");
        }
        if (r != null) {
            blocked(r);
            folded("Runnable tasks", r.runnable().size(), String.join("\n", r.runnable()));
            folded("Hung-task detector reports", r.hungTasks().size(), String.join("\n", r.hungTasks()));
            folded("Workqueue watchdog lockup reports", r.lockups().size(), String.join("\n", r.lockups()));
            folded("Workqueue dump", r.workqueueDump() == null ? 0 : 1, r.workqueueDump());
        }
        folded("Trace: the last task events", run.traceTail().size(), run.traceTail().stream().map(dev.rescuer.sim.TraceEvent::text).collect(java.util.stream.Collectors.joining("\n")));
        if (r != null) {
            folded("The text report", 1, r.toText());
        }
        sections.append("</section>\n");
        return this;
    }

    private void cycles(HangReport r, int hang) {
        List<List<HangReport.CycleLink>> cycles = r.cycleLinks();
        if (cycles.isEmpty()) {
            sections.append("<h3>No wait-for cycle through tasks</h3>\n");
            if (!r.chains().isEmpty()) {
                sections.append("<p>The wait-for chains:</p>\n<ul class=\"chains\">\n");
                for (List<String> c : r.chains()) {
                    sections.append("<li><code>").append(Html.text(String.join("  →  ", c))).append("</code></li>\n");
                }
                sections.append("</ul>\n");
            }
            return;
        }
        for (int i = 0; i < cycles.size(); i++) {
            String label = cycles.size() == 1 ? "Wait-for cycle" : "Wait-for cycle " + (i + 1) + " of " + cycles.size();
            sections.append("<h3>").append(Html.text(label)).append("</h3>\n<div class=\"scroll\">")
                    .append(new CycleGraph(cycles.get(i), "h" + hang + "c" + (i + 1)).svg(label)).append("</div>\n");
            sections.append("<p class=\"legend\">");
            CycleGraph.EDGE_COLOURS.forEach((kind, colour) -> sections.append("<span><i style=\"background:").append(colour)
                    .append("\"></i>").append(Html.text(kind)).append("</span>"));
            sections.append("</p>\n<ol class=\"links\">\n");
            for (HangReport.CycleLink l : cycles.get(i)) {
                sections.append("<li><code>").append(Html.text(l.text())).append("</code></li>\n");
            }
            sections.append("</ol>\n");
        }
    }

    private void blocked(HangReport r) {
        if (r.blocked().isEmpty()) {
            return;
        }
        sections.append("<h3>Blocked tasks</h3>\n<table class=\"blocked\">\n<tr><th>task</th><th>waits on</th>")
                .append("<th>blocked for (virtual s)</th><th>timed</th><th>holds</th><th>work item</th></tr>\n");
        for (HangReport.BlockedTask b : r.blocked()) {
            sections.append("<tr><td>").append(Html.text(b.task() + ":" + b.id())).append("</td><td>").append(Html.text(b.waitsOn()))
                    .append("</td><td class=\"num\">").append(String.format(Locale.ROOT, "%.3f", b.blockedNanos() / 1e9))
                    .append("</td><td>").append(b.timed() ? b.timesOutInNanos() == 0 ? "timed out" : "yes" : "no")
                    .append("</td><td>").append(Html.text(String.join(", ", b.holds()))).append("</td><td>")
                    .append(Html.text(b.workqueue())).append("</td></tr>\n");
        }
        sections.append("</table>\n");
    }

    private void folded(String summary, int count, String text) {
        if (count == 0 || text == null || text.isBlank()) {
            return;
        }
        sections.append("<details><summary>").append(Html.text(summary)).append(count > 1 ? " (" + count + ")" : "")
                .append("</summary>\n<pre>").append(Html.text(text.stripTrailing())).append("</pre></details>\n");
    }

    /**
     * The analyzer's result: the dependency graph drawn ({@link DependencyGraph}), the queues with
     * whether each needs a rescuer (and the path that says why) and the domain the plan gives it, the
     * violations, and the text report folded.
     */
    public HtmlReport analysis(WaitGraph graph, Analysis a) {
        Map<String, String> plan = a.assignment();
        Map<String, List<String>> needs = new LinkedHashMap<>();
        for (Analysis.Need n : a.needsRescuer()) {
            needs.put(n.queue(), n.path());
        }
        List<List<String>> rows = new ArrayList<>();
        List<Boolean> flagged = new ArrayList<>();
        for (Analysis.QueueInfo q : a.queues()) {
            List<String> path = needs.get(q.name());
            rows.add(List.of(q.name(), q.memReclaim() ? "yes" : "no", String.join(" ", q.flags()),
                    path == null ? "no" : "yes: " + String.join(" -> ", path), plan.getOrDefault(q.name(), "-")));
            flagged.add(path != null && !q.memReclaim());
        }
        table(List.of("queue", "MEM_RECLAIM", "flags", "needs a rescuer", "planned domain"), rows, flagged);
        if (a.violations().isEmpty()) {
            paragraph("No layering violations. Least rescuer threads: " + a.minRescuers() + " (the longest chain: "
                    + String.join(" -> ", a.longestChain()) + ").");
        } else {
            top.append("<h3>Violations</h3>\n<ul class=\"violations\">\n");
            for (Analysis.Violation v : a.violations()) {
                top.append("<li><b>").append(Html.text(v.kind())).append("</b>: ").append(Html.text(v.message()))
                        .append(": <code>").append(Html.text(String.join(" -> ", v.path()))).append("</code></li>\n");
            }
            top.append("</ul>\n");
        }
        top.append("<h3>The dependency graph</h3>\n<div class=\"scroll\">").append(DependencyGraph.svg(graph, a)).append("</div>\n")
                .append("<p class=\"legend\">Edges point from the waiter to what it waits on (dashed: an item flushes the queue; red: ")
                .append("closes a cycle). Layered: every node one layer below its lowest predecessor.</p>\n");
        top.append("<details><summary>The text report</summary>\n<pre>").append(Html.text(a.toText().stripTrailing()))
                .append("</pre></details>\n");
        return this;
    }

    /** The whole page. */
    public String render() {
        StringBuilder nav = new StringBuilder();
        if (headings.size() > 1) {
            nav.append("<nav><p>On this page:</p>\n<ul>\n");
            for (int i = 0; i < headings.size(); i++) {
                nav.append("<li><a href=\"#hang-").append(i + 1).append("\">").append(Html.text(headings.get(i))).append("</a></li>\n");
            }
            nav.append("</ul></nav>\n");
        }
        return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + Html.text(title)
                + "</title>\n<style>\n" + STYLE + "</style>\n</head>\n<body>\n" + top + nav + sections + "<script>\n" + CHECK_SCRIPT
                + "</script>\n</body>\n</html>\n";
    }

    /** Writes the page to {@code file} in UTF-8, replacing it. */
    public void write(Path file) throws IOException {
        Files.writeString(file, render(), StandardCharsets.UTF_8);
    }
}
