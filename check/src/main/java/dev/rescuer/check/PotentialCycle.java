package dev.rescuer.check;

import dev.rescuer.core.platform.LockEvents;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * A cycle of dependencies every junction of which blocks: some interleaving of the tasks that
 * recorded its links hangs. {@link #format()} prints it in lockdep's shape.
 *
 * @param links the dependencies, each one's {@code to} the next one's {@code from}, the last one's
 *     {@code to} the first one's {@code from}
 */
public record PotentialCycle(List<Dependency> links) {

    private static final int COLUMN = 34;

    /** Checks the links form a cycle. */
    public PotentialCycle {
        links = List.copyOf(links);
        if (links.isEmpty()) {
            throw new IllegalArgumentException("a cycle needs at least one link");
        }
        for (int i = 0; i < links.size(); i++) {
            Dependency a = links.get(i);
            Dependency b = links.get((i + 1) % links.size());
            if (a.to() != b.from()) {
                throw new IllegalArgumentException("link " + i + " ends at " + a.to() + " but link " + ((i + 1) % links.size())
                        + " starts at " + b.from());
            }
        }
    }

    /** The classes on the cycle, in its order. */
    public List<LockClass> classes() {
        List<LockClass> out = new ArrayList<>(links.size());
        for (Dependency d : links) {
            out.add(d.from());
        }
        return out;
    }

    /** The distinct tasks that recorded the links, in the cycle's order. */
    public List<String> tasks() {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (Dependency d : links) {
            out.add(d.task());
        }
        return List.copyOf(out);
    }

    /** A one-line summary: {@code A -> B -> A}. */
    public String chain() {
        StringBuilder sb = new StringBuilder();
        for (Dependency d : links) {
            sb.append(d.from()).append(" -> ");
        }
        return sb.append(links.get(0).from()).toString();
    }

    /**
     * The report: the banner, each link with its two classes, task and the stack where it was
     * first recorded, then a scenario of the tasks (one column each, for up to three links)
     * showing the interleaving that hangs.
     */
    public String format() {
        StringBuilder sb = new StringBuilder();
        String rule = "======================================================\n";
        sb.append(rule)
                .append(links.size() == 1 ? "WARNING: possible recursive locking detected\n" : "WARNING: possible circular dependency detected\n")
                .append("------------------------------------------------------\n")
                .append("the existing dependency chain is: ").append(chain()).append("\n\n");
        for (int i = 0; i < links.size(); i++) {
            Dependency d = links.get(i);
            sb.append("-> #").append(i).append(" (").append(d.from()).append("){").append(d.from().kind()).append("} -> (")
                    .append(d.to()).append("){").append(d.to().kind()).append("}:\n");
            sb.append("       ").append(d.describe()).append('\n');
            for (StackTraceElement e : d.stack()) {
                sb.append("       at ").append(e).append('\n');
            }
            sb.append('\n');
        }
        sb.append("other info that might help us debug this:\n\n");
        if (links.size() <= 3) {
            scenario(sb);
        } else {
            sb.append(" Chain exists of:\n   ").append(chain()).append("\n\n");
        }
        sb.append(" *** DEADLOCK ***\n");
        return sb.toString();
    }

    private void scenario(StringBuilder sb) {
        int n = links.size();
        sb.append(" Possible unsafe scenario:\n\n");
        List<String> head = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            head.add("CPU" + i);
            names.add(links.get(i).task());
        }
        row(sb, -1, head);
        row(sb, -1, names);
        List<String> dashes = new ArrayList<>();
        for (String s : names) {
            dashes.add("-".repeat(Math.max(4, Math.min(COLUMN - 2, s.length()))));
        }
        row(sb, -1, dashes);
        for (int i = 0; i < n; i++) { // each task first gets what it holds
            row(sb, i, List.of(holdStep(links.get(i))));
        }
        for (int i = 0; i < n; i++) { // then each reaches for what the next one holds
            Dependency d = links.get(i);
            Dependency next = links.get((i + 1) % n);
            if (d.toMode() == LockEvents.SHARED && next.fromMode() == LockEvents.SHARED) {
                row(sb, -1, List.of("  (a writer of " + d.to() + " queues here: it waits for CPU" + ((i + 1) % n)
                        + "'s read hold, and new readers wait behind it)"));
            }
            row(sb, i, List.of(reachStep(d)));
        }
        sb.append('\n');
    }

    private static String holdStep(Dependency d) {
        if (d.type() == Dependency.Type.SIGNAL) {
            return "(will signal " + d.from() + ")";
        }
        return verb(d.from(), d.fromMode()) + "(" + d.from() + ");";
    }

    private static String reachStep(Dependency d) {
        if (d.to().isEvent()) {
            return "wait(" + d.to() + ");";
        }
        return verb(d.to(), d.toMode()) + "(" + d.to() + ");";
    }

    private static String verb(LockClass c, int mode) {
        if ("work".equals(c.kind()) || "workqueue".equals(c.kind()) || "pseudo-lock".equals(c.kind())) {
            return mode == LockEvents.RECURSIVE ? "run-in" : "acquire";
        }
        return mode == LockEvents.SHARED ? "read-lock" : "lock";
    }

    /** Appends one row: {@code cells} in column {@code col}, or from column 0 if {@code col < 0}. */
    private static void row(StringBuilder sb, int col, List<String> cells) {
        StringBuilder line = new StringBuilder("       ");
        int start = Math.max(col, 0);
        line.append(" ".repeat(start * COLUMN));
        for (String c : cells) {
            line.append(c);
            int pad = COLUMN - c.length();
            line.append(" ".repeat(Math.max(1, pad)));
        }
        sb.append(line.toString().stripTrailing()).append('\n');
    }
}
