package dev.rescuer.analyze;

import dev.rescuer.storage.deps.WaitGraph;

import java.util.Map;

/** The graph in Graphviz form: nodes by kind, queues labelled with their planned domain, edges "waits on". */
public final class Dot {

    private Dot() {
    }

    /** {@code graph} as a {@code digraph}, queues annotated with {@code analysis}'s plan. */
    public static String render(WaitGraph graph, Analysis analysis) {
        Map<String, String> plan = analysis.assignment();
        StringBuilder b = new StringBuilder("digraph waits {\n  rankdir=TB;\n");
        for (WaitGraph.Node n : graph.nodes()) {
            String shape = switch (n.kind()) {
                case QUEUE -> "box";
                case DEVICE -> "cylinder";
                case RECLAIM -> "doubleoctagon";
                case TASK -> "ellipse";
                case POINT -> "point";
            };
            String label = n.name() + (n.kind() == WaitGraph.NodeKind.QUEUE
                    ? (n.memReclaim() ? "\\nMEM_RECLAIM" : "\\nno rescuer") + (plan.containsKey(n.name()) ? "\\n" + plan.get(n.name()) : "")
                    : "");
            b.append("  ").append(quote(n.name())).append(" [shape=").append(shape).append(", label=").append(quote(label)).append("];\n");
        }
        for (WaitGraph.Edge e : graph.edges()) {
            b.append("  ").append(quote(e.from())).append(" -> ").append(quote(e.to()));
            if (e.kind() == WaitGraph.EdgeKind.FLUSHES) {
                b.append(" [style=dashed, label=\"flush\"]");
            }
            b.append(";\n");
        }
        return b.append("}\n").toString();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\"", "\\\"") + "\"";
    }
}
