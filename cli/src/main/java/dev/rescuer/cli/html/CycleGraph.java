package dev.rescuer.cli.html;

import dev.rescuer.core.wq.RunningWork;
import dev.rescuer.sim.explore.HangReport.CycleLink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One wait-for cycle drawn as an SVG graph: the tasks, the primitives they wait on, the work items
 * worker tasks run and the queues those come from, with every edge labelled by its kind.
 *
 * <p><b>Edges</b> read as sentences, from subject to object: a task {@code waits} on a primitive; a
 * task {@code holds} it, is a {@code queued writer} on it (a writer queued ahead on a rw-semaphore) or
 * {@code releases} it (would complete the event; the edge's tooltip says how); a worker {@code runs} a
 * work item, which is {@code on} its workqueue.
 *
 * <p><b>Layout</b> (no layout library on the registry list fits, so this is a documented, simple
 * one). The cycle's tasks and primitives go around a circle in the cycle's order (task, what it waits
 * on, the next task, ...; a primitive two tasks wait on appears once, where it is first met), evenly
 * spaced, starting at the top and going clockwise; the radius is the smallest that keeps two
 * neighbours as far apart as the widest node plus a margin. A worker's item and queue sit outside the
 * circle on the ray from the centre through the worker, each just far enough along it that its box
 * clears the previous one. Edges between the same two nodes are drawn as curves bent apart, with their
 * labels at different points along them, and each ends at the border of its node's box.
 */
public final class CycleGraph {

    private static final double CHAR_PX = 7.3;   // 12 px monospace
    private static final double LINE_PX = 15;
    private static final double PAD_X = 10;
    private static final double PAD_Y = 7;
    private static final double NEIGHBOUR_GAP = 40;
    private static final double OUTER_GAP = 34;
    private static final double BEND_PX = 44;
    private static final double MARGIN = 24;

    /** The edge kinds, in legend order, with their colours. */
    static final Map<String, String> EDGE_COLOURS = new LinkedHashMap<>();

    static {
        EDGE_COLOURS.put("waits", "#555555");
        EDGE_COLOURS.put("holds", "#b03a2e");
        EDGE_COLOURS.put("queued writer", "#ca6f1e");
        EDGE_COLOURS.put("releases", "#1f618d");
        EDGE_COLOURS.put("runs", "#1e8449");
        EDGE_COLOURS.put("on", "#76448a");
    }

    /** A box: its id (the DOM's {@code data-id}), kind (CSS class), text lines, tooltip and place. */
    private static final class Node {
        final String id;
        final String kind;
        final List<String> lines;
        final String title;
        final Map<String, String> data = new LinkedHashMap<>();
        double x;
        double y;

        Node(String id, String kind, String title, String... lines) {
            this.id = id;
            this.kind = kind;
            this.title = title;
            this.lines = List.of(lines);
        }

        double w() {
            int chars = 0;
            for (String l : lines) {
                chars = Math.max(chars, l.length());
            }
            return chars * CHAR_PX + 2 * PAD_X;
        }

        double h() {
            return lines.size() * LINE_PX + 2 * PAD_Y;
        }
    }

    private record Edge(Node from, Node to, String kind, String title) {
    }

    private final String idPrefix;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<Node> ring = new ArrayList<>();
    private final List<Edge> edges = new ArrayList<>();

    /**
     * Lays out {@code cycle}.
     *
     * @param idPrefix makes the SVG's marker ids unique on the page (several graphs share one document)
     * @throws IllegalArgumentException if {@code cycle} is empty
     */
    public CycleGraph(List<CycleLink> cycle, String idPrefix) {
        if (cycle.isEmpty()) {
            throw new IllegalArgumentException("a wait-for cycle has at least one link");
        }
        this.idPrefix = idPrefix;
        for (CycleLink l : cycle) {
            Node from = task(l.task(), l.pid(), true);
            Node on = primitive(l);
            edge(from, on, "waits", l.text());
        }
        for (CycleLink l : cycle) {
            Node to = task(l.to(), l.toPid(), false);
            edge(to, nodes.get(primitiveId(l)), l.edge(), l.via() == null ? l.text() : l.via() + " " + l.to() + ":" + l.toPid());
        }
        placeRing();
        for (CycleLink l : cycle) {
            placeWork(nodes.get(taskId(l.pid())), l.runs());
        }
    }

    private static String taskId(long pid) {
        return "task:" + pid;
    }

    private static String primitiveId(CycleLink l) {
        return "primitive:" + l.primitive();
    }

    private Node task(String name, long pid, boolean onRing) {
        Node n = nodes.get(taskId(pid));
        if (n == null) {
            n = new Node(taskId(pid), "task", "task " + name + ", pid " + pid, name + ":" + pid);
            n.data.put("name", name);
            n.data.put("pid", Long.toString(pid));
            nodes.put(n.id, n);
            if (onRing) {
                ring.add(n);
            }
        }
        return n;
    }

    private Node primitive(CycleLink l) {
        Node n = nodes.get(primitiveId(l));
        if (n == null) {
            String title = l.primitiveKind() + " " + l.primitive() + " [" + l.primitiveClass() + "]";
            n = l.primitive().equals(l.primitiveClass())
                    ? new Node(primitiveId(l), "primitive", title, l.primitiveKind() + " " + l.primitive())
                    : new Node(primitiveId(l), "primitive", title, l.primitiveKind() + " " + l.primitive(), "[" + l.primitiveClass() + "]");
            n.data.put("name", l.primitive());
            nodes.put(n.id, n);
            ring.add(n);
        }
        return n;
    }

    private void edge(Node from, Node to, String kind, String title) {
        for (Edge e : edges) {
            if (e.from() == from && e.to() == to && e.kind().equals(kind)) {
                return;
            }
        }
        edges.add(new Edge(from, to, kind, title));
    }

    private void placeRing() {
        int n = ring.size();
        double widest = 0;
        for (Node r : ring) {
            widest = Math.max(widest, Math.max(r.w(), r.h()));
        }
        double radius = Math.max(90, (widest + NEIGHBOUR_GAP) / (2 * Math.sin(Math.PI / n)));
        for (int k = 0; k < n; k++) {
            double a = -Math.PI / 2 + 2 * Math.PI * k / n;
            ring.get(k).x = radius * Math.cos(a);
            ring.get(k).y = radius * Math.sin(a);
        }
    }

    /** The worker's item and its queue, outward from the centre through {@code worker}. */
    private void placeWork(Node worker, RunningWork runs) {
        if (runs == null) {
            return;
        }
        double len = Math.hypot(worker.x, worker.y);
        double ux = len == 0 ? 0 : worker.x / len;
        double uy = len == 0 ? -1 : worker.y / len;
        String workId = "work:" + runs.workqueue() + "/" + runs.work();
        Node work = nodes.get(workId);
        if (work == null) {
            work = new Node(workId, "work", "work item " + runs.work() + " of workqueue " + runs.workqueue(), "work " + runs.work());
            work.data.put("name", runs.work());
            outward(worker, work, ux, uy);
            nodes.put(workId, work);
        }
        edge(worker, work, "runs", worker.lines.get(0) + " runs " + runs.work() + (runs.rescuer() ? " as the queue's rescuer" : ""));
        String queueId = "workqueue:" + runs.workqueue();
        Node queue = nodes.get(queueId);
        if (queue == null) {
            queue = new Node(queueId, "workqueue", "workqueue " + runs.workqueue(), "workqueue " + runs.workqueue());
            queue.data.put("name", runs.workqueue());
            outward(work, queue, ux, uy);
            nodes.put(queueId, queue);
        }
        edge(work, queue, "on", runs.work() + " was queued on workqueue " + runs.workqueue());
    }

    /** Places {@code b} on the ray from {@code a} along (ux, uy), just clear of {@code a}'s box. */
    private static void outward(Node a, Node b, double ux, double uy) {
        double dx = Math.abs(ux) < 1e-9 ? Double.POSITIVE_INFINITY : ((a.w() + b.w()) / 2 + OUTER_GAP) / Math.abs(ux);
        double dy = Math.abs(uy) < 1e-9 ? Double.POSITIVE_INFINITY : ((a.h() + b.h()) / 2 + OUTER_GAP) / Math.abs(uy);
        double d = Math.min(dx, dy);
        b.x = a.x + ux * d;
        b.y = a.y + uy * d;
    }

    /** The graph as one {@code <svg>} element; every name escaped. */
    public String svg(String label) {
        double minX = Double.MAX_VALUE;
        double minY = Double.MAX_VALUE;
        double maxX = -Double.MAX_VALUE;
        double maxY = -Double.MAX_VALUE;
        for (Node n : nodes.values()) {
            minX = Math.min(minX, n.x - n.w() / 2);
            maxX = Math.max(maxX, n.x + n.w() / 2);
            minY = Math.min(minY, n.y - n.h() / 2);
            maxY = Math.max(maxY, n.y + n.h() / 2);
        }
        double ox = MARGIN - minX;
        double oy = MARGIN - minY;
        double width = maxX - minX + 2 * MARGIN;
        double height = maxY - minY + 2 * MARGIN;
        StringBuilder sb = new StringBuilder();
        sb.append("<svg class=\"graph cycle\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"")
                .append(Html.text(label)).append("\" width=\"").append(Html.num(width)).append("\" height=\"")
                .append(Html.num(height)).append("\" viewBox=\"0 0 ").append(Html.num(width)).append(' ')
                .append(Html.num(height)).append("\">\n<defs>");
        for (var c : EDGE_COLOURS.entrySet()) {
            sb.append("<marker id=\"").append(markerId(c.getKey())).append("\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" ")
                    .append("markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"")
                    .append(c.getValue()).append("\"/></marker>");
        }
        sb.append("</defs>\n<g class=\"nodes\">\n");
        for (Node n : nodes.values()) {
            double x = n.x + ox;
            double y = n.y + oy;
            sb.append("<g class=\"node ").append(n.kind).append("\" data-id=\"").append(Html.text(n.id)).append('"');
            n.data.forEach((k, v) -> sb.append(" data-").append(k).append("=\"").append(Html.text(v)).append('"'));
            sb.append("><title>").append(Html.text(n.title)).append("</title><rect x=\"").append(Html.num(x - n.w() / 2))
                    .append("\" y=\"").append(Html.num(y - n.h() / 2)).append("\" width=\"").append(Html.num(n.w()))
                    .append("\" height=\"").append(Html.num(n.h())).append("\" rx=\"").append(n.kind.equals("task") ? 3 : 12)
                    .append("\"/>");
            for (int i = 0; i < n.lines.size(); i++) {
                double ty = y - n.h() / 2 + PAD_Y + LINE_PX * (i + 0.78);
                sb.append("<text x=\"").append(Html.num(x)).append("\" y=\"").append(Html.num(ty)).append("\">")
                        .append(Html.text(n.lines.get(i))).append("</text>");
            }
            sb.append("</g>\n");
        }
        sb.append("</g>\n<g class=\"edges\">\n");
        for (int i = 0; i < edges.size(); i++) {
            appendEdge(sb, edges.get(i), ox, oy);
        }
        sb.append("</g>\n</svg>");
        return sb.toString();
    }

    private String markerId(String kind) {
        return idPrefix + "-arrow-" + kind.replace(' ', '-');
    }

    private void appendEdge(StringBuilder sb, Edge e, double ox, double oy) {
        // Edges between the same two nodes, in either direction, are bent apart symmetrically.
        List<Edge> pair = new ArrayList<>();
        for (Edge o : edges) {
            if (o.from() == e.from() && o.to() == e.to() || o.from() == e.to() && o.to() == e.from()) {
                pair.add(o);
            }
        }
        int j = pair.indexOf(e);
        double ax = e.from().x + ox;
        double ay = e.from().y + oy;
        double bx = e.to().x + ox;
        double by = e.to().y + oy;
        double len = Math.max(1e-9, Math.hypot(bx - ax, by - ay));
        // Perpendicular of the pair's canonical direction, so opposite edges do not cancel their bends.
        boolean forward = pair.get(0).from() == e.from();
        double px = (forward ? -(by - ay) : (by - ay)) / len;
        double py = (forward ? (bx - ax) : -(bx - ax)) / len;
        double bend = (j - (pair.size() - 1) / 2.0) * BEND_PX * 2;
        double cx = (ax + bx) / 2 + px * bend;
        double cy = (ay + by) / 2 + py * bend;
        double[] s = exit(e.from(), ax, ay, cx, cy);
        double[] t = exit(e.to(), bx, by, cx, cy);
        // The label sits on the curve; parallel edges put theirs at different points along it, so they do not overlap.
        double u = pair.size() == 1 ? 0.5 : 0.3 + 0.4 * j / (pair.size() - 1);
        double lx = (1 - u) * (1 - u) * s[0] + 2 * u * (1 - u) * cx + u * u * t[0];
        double ly = (1 - u) * (1 - u) * s[1] + 2 * u * (1 - u) * cy + u * u * t[1];
        String colour = EDGE_COLOURS.getOrDefault(e.kind(), "#000000");
        sb.append("<g class=\"edge\" data-kind=\"").append(Html.text(e.kind())).append("\" data-from=\"")
                .append(Html.text(e.from().id)).append("\" data-to=\"").append(Html.text(e.to().id)).append("\"><title>")
                .append(Html.text(e.title())).append("</title><path d=\"M").append(Html.num(s[0])).append(',')
                .append(Html.num(s[1])).append(" Q").append(Html.num(cx)).append(',').append(Html.num(cy)).append(' ')
                .append(Html.num(t[0])).append(',').append(Html.num(t[1])).append("\" stroke=\"").append(colour)
                .append("\"").append(e.kind().equals("waits") ? " stroke-dasharray=\"6 4\"" : "")
                .append(" marker-end=\"url(#").append(markerId(e.kind())).append(")\"/><text x=\"").append(Html.num(lx))
                .append("\" y=\"").append(Html.num(ly + 4)).append("\" fill=\"").append(colour).append("\">")
                .append(Html.text(e.kind())).append("</text></g>\n");
    }

    /** Where the segment from the centre ({@code x}, {@code y}) of {@code n} towards (tx, ty) leaves its box. */
    private static double[] exit(Node n, double x, double y, double tx, double ty) {
        double dx = tx - x;
        double dy = ty - y;
        double hw = n.w() / 2 + 2;
        double hh = n.h() / 2 + 2;
        double t = Math.min(Math.abs(dx) < 1e-9 ? Double.POSITIVE_INFINITY : hw / Math.abs(dx),
                Math.abs(dy) < 1e-9 ? Double.POSITIVE_INFINITY : hh / Math.abs(dy));
        t = Math.min(t, 1);
        return new double[] {x + dx * t, y + dy * t};
    }
}
