package dev.rescuer.cli.html;

import dev.rescuer.analyze.Analysis;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The analyzer's dependency graph as an SVG: queues (with MEM_RECLAIM or not, and the domain the plan
 * gives them), devices, reclaim sources, user-space tasks and shared wait points, and the
 * {@code waits} and {@code flush} edges between them.
 *
 * <p><b>Layout</b>, a plain layered one (no layout library on the package list fits): edges that
 * close a cycle (back edges of a depth-first search from the nodes in declaration order) are set
 * aside; every node goes on the layer one below its lowest predecessor (longest path from a source),
 * so waits point down; within a layer, nodes are ordered by the mean position of their predecessors
 * (one sweep from the top) and spread out by their widths. Edges are straight; a back edge is drawn
 * as a curve and flagged as closing a cycle. Only {@code flush} edges carry a label; an unlabelled
 * edge waits (hover any edge for its mechanism).
 */
final class DependencyGraph {

    private static final double CHAR_PX = 7.3;
    private static final double LINE_PX = 15;
    private static final double LAYER_PX = 100;
    private static final double GAP_PX = 36;
    private static final double MARGIN = 24;

    private record Box(WaitGraph.Node node, List<String> lines, double w, double h) {
    }

    private DependencyGraph() {
    }

    /** The graph of {@code graph}, its queues labelled from {@code analysis}'s plan. */
    static String svg(WaitGraph graph, Analysis analysis) {
        Map<String, String> plan = analysis.assignment();
        Map<String, Box> boxes = new LinkedHashMap<>();
        for (WaitGraph.Node n : graph.nodes()) {
            List<String> lines = new ArrayList<>();
            lines.add(n.name());
            if (n.kind() == WaitGraph.NodeKind.QUEUE) {
                lines.add((n.memReclaim() ? "MEM_RECLAIM" : "no rescuer") + (plan.containsKey(n.name()) ? ", " + plan.get(n.name()) : ""));
            } else {
                lines.add(n.kind().name().toLowerCase());
            }
            int chars = lines.stream().mapToInt(String::length).max().orElse(1);
            boxes.put(n.name(), new Box(n, lines, chars * CHAR_PX + 20, lines.size() * LINE_PX + 14));
        }
        List<WaitGraph.Edge> edges = graph.edges().stream()
                .filter(e -> boxes.containsKey(e.from()) && boxes.containsKey(e.to())).toList();
        Set<WaitGraph.Edge> back = backEdges(boxes.keySet(), edges);
        Map<String, Integer> layer = new HashMap<>();
        for (String n : topological(boxes.keySet(), edges, back)) {
            int l = 0;
            for (WaitGraph.Edge e : edges) {
                if (!back.contains(e) && e.to().equals(n) && layer.containsKey(e.from())) {
                    l = Math.max(l, layer.get(e.from()) + 1);
                }
            }
            layer.put(n, l);
        }
        int layers = layer.values().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
        Map<String, double[]> at = new HashMap<>();
        double width = 0;
        List<List<String>> rows = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            List<String> row = new ArrayList<>();
            for (String n : boxes.keySet()) {
                if (layer.get(n) == l) {
                    row.add(n);
                }
            }
            if (l > 0) {
                Map<String, Double> mean = new HashMap<>();
                for (String n : row) {
                    mean.put(n, edges.stream().filter(e -> !back.contains(e) && e.to().equals(n) && at.containsKey(e.from()))
                            .mapToDouble(e -> at.get(e.from())[0]).average().orElse(Double.MAX_VALUE));
                }
                row.sort(Comparator.comparingDouble(mean::get));
            }
            double x = 0;
            for (String n : row) {
                Box b = boxes.get(n);
                at.put(n, new double[] {x + b.w() / 2, l * LAYER_PX});
                x += b.w() + GAP_PX;
            }
            width = Math.max(width, x - GAP_PX);
            rows.add(row);
        }
        // Centre each layer on the widest.
        for (List<String> row : rows) {
            if (row.isEmpty()) {
                continue;
            }
            String last = row.get(row.size() - 1);
            double rowWidth = at.get(last)[0] + boxes.get(last).w() / 2;
            for (String n : row) {
                at.get(n)[0] += (width - rowWidth) / 2 + MARGIN;
                at.get(n)[1] += MARGIN + 20;
            }
        }
        double height = layers * LAYER_PX + 2 * MARGIN;
        double totalWidth = width + 2 * MARGIN;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg class=\"graph deps\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"dependency graph\" width=\"")
                .append(Html.num(totalWidth)).append("\" height=\"").append(Html.num(height)).append("\" viewBox=\"0 0 ")
                .append(Html.num(totalWidth)).append(' ').append(Html.num(height)).append("\">\n<defs><marker id=\"deps-arrow\" ")
                .append("viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">")
                .append("<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n<g class=\"nodes\">\n");
        for (Box b : boxes.values()) {
            double[] p = at.get(b.node().name());
            String kind = b.node().kind().name().toLowerCase();
            String cls = b.node().kind() == WaitGraph.NodeKind.QUEUE ? (b.node().memReclaim() ? "queue rescued" : "queue") : kind;
            sb.append("<g class=\"node ").append(cls).append("\" data-id=\"").append(Html.text(b.node().name())).append("\"><rect x=\"")
                    .append(Html.num(p[0] - b.w() / 2)).append("\" y=\"").append(Html.num(p[1] - b.h() / 2)).append("\" width=\"")
                    .append(Html.num(b.w())).append("\" height=\"").append(Html.num(b.h())).append("\" rx=\"")
                    .append(b.node().kind() == WaitGraph.NodeKind.QUEUE ? 3 : 12).append("\"/>");
            for (int i = 0; i < b.lines().size(); i++) {
                sb.append("<text x=\"").append(Html.num(p[0])).append("\" y=\"")
                        .append(Html.num(p[1] - b.h() / 2 + 7 + LINE_PX * (i + 0.78))).append("\">")
                        .append(Html.text(b.lines().get(i))).append("</text>");
            }
            sb.append("</g>\n");
        }
        sb.append("</g>\n<g class=\"edges\">\n");
        for (WaitGraph.Edge e : edges) {
            double[] a = at.get(e.from());
            double[] b = at.get(e.to());
            Box ba = boxes.get(e.from());
            Box bb = boxes.get(e.to());
            String kind = e.kind() == WaitGraph.EdgeKind.FLUSHES ? "flush" : "waits";
            boolean isBack = back.contains(e);
            double y1 = a[1] + (isBack || b[1] < a[1] ? -ba.h() / 2 : ba.h() / 2);
            double y2 = b[1] + (isBack || b[1] < a[1] ? bb.h() / 2 : -bb.h() / 2);
            double cx = (a[0] + b[0]) / 2 + (isBack || a[1] == b[1] ? 60 : 0);
            double cy = (y1 + y2) / 2 - (a[1] == b[1] ? 40 : 0);
            sb.append("<g class=\"edge").append(isBack ? " back" : "").append("\" data-kind=\"").append(kind).append("\" data-from=\"")
                    .append(Html.text(e.from())).append("\" data-to=\"").append(Html.text(e.to())).append("\"><title>")
                    .append(Html.text(e.from() + " " + kind + " " + e.to() + (e.why() == null ? "" : ": " + e.why())
                            + (isBack ? " (closes a cycle)" : ""))).append("</title><path d=\"M").append(Html.num(a[0])).append(',')
                    .append(Html.num(y1)).append(" Q").append(Html.num(cx)).append(',').append(Html.num(cy)).append(' ')
                    .append(Html.num(b[0])).append(',').append(Html.num(y2)).append("\" stroke=\"").append(isBack ? "#b03a2e" : "#555")
                    .append('"').append(kind.equals("flush") ? " stroke-dasharray=\"6 4\"" : "")
                    .append(" marker-end=\"url(#deps-arrow)\"/>");
            if (!kind.equals("waits")) { // most edges wait: only the others are labelled, so labels do not crowd
                sb.append("<text x=\"").append(Html.num(0.25 * a[0] + 0.5 * cx + 0.25 * b[0])).append("\" y=\"")
                        .append(Html.num(0.25 * y1 + 0.5 * cy + 0.25 * y2)).append("\">").append(kind).append("</text>");
            }
            sb.append("</g>\n");
        }
        sb.append("</g>\n</svg>");
        return sb.toString();
    }

    /** The edges that close a cycle: back edges of a depth-first search from each node in order. */
    private static Set<WaitGraph.Edge> backEdges(Set<String> nodes, List<WaitGraph.Edge> edges) {
        Set<WaitGraph.Edge> back = new HashSet<>();
        Set<String> done = new HashSet<>();
        for (String n : nodes) {
            dfs(n, edges, new HashSet<>(), done, back);
        }
        return back;
    }

    private static void dfs(String n, List<WaitGraph.Edge> edges, Set<String> onPath, Set<String> done, Set<WaitGraph.Edge> back) {
        if (done.contains(n)) {
            return;
        }
        onPath.add(n);
        for (WaitGraph.Edge e : edges) {
            if (e.from().equals(n)) {
                if (onPath.contains(e.to())) {
                    back.add(e);
                } else {
                    dfs(e.to(), edges, onPath, done, back);
                }
            }
        }
        onPath.remove(n);
        done.add(n);
    }

    /** The nodes in an order where every node comes after its predecessors (back edges left out). */
    private static List<String> topological(Set<String> nodes, List<WaitGraph.Edge> edges, Set<WaitGraph.Edge> back) {
        List<String> out = new ArrayList<>();
        Set<String> placed = new HashSet<>();
        while (out.size() < nodes.size()) {
            for (String n : nodes) {
                if (!placed.contains(n) && edges.stream().noneMatch(e -> !back.contains(e) && e.to().equals(n) && !placed.contains(e.from()))) {
                    placed.add(n);
                    out.add(n);
                }
            }
        }
        return out;
    }
}
