package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Who waits for whom among blocked tasks, built from what the primitives record: a blocked task has an
 * edge to every task that holds what it waits on, to every writer queued ahead of it on a
 * rw-semaphore (writer preference), and to every releaser of an event: those the scenario declared (a
 * completion's completer, a semaphore's upper), those the runtime knows ({@link RuntimeReleasers}: a
 * flush's items, a worker's creation, a mempool's holders), or else those learned from who signalled
 * the event or its class earlier in the run ({@link LearnedReleasers}). A releaser that is not a task
 * (a device, an item not in flight) ends a chain. A task in an idle wait is followed only when an
 * edge reaches it and its wait has a declared or runtime releaser (see the constructor).
 *
 * <p>{@link #cycles} finds the distinct cycles through the blocked tasks, in id order; {@link #chains()}
 * follows every edge of each blocked task (those on no cycle, when there are cycles) to the end.
 */
final class WaitForGraph {

    /** How the task at an edge's end stands behind what the edge's task waits on. */
    enum Kind {
        /** It holds it (or holds it for write). */
        HOLDS("holds"),
        /** It is a writer queued ahead on a rw-semaphore (writer preference). */
        QUEUED_WRITER("queued writer"),
        /** It is a releaser of the event. */
        RELEASES("releases");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The word reports and JSON use ({@code holds}, {@code queued writer}, {@code releases}). */
        String label() {
            return label;
        }
    }

    /**
     * One edge: {@code from} waits on {@code on}, which {@code to} stands behind as {@code kind} says;
     * {@code to} is {@code null} when what stands behind it is not a task ({@code relation} then says
     * what). {@code relation} is the edge's words in the text report ({@code held by},
     * {@code held for write by}, {@code behind queued writer}, {@code released by <via>}); {@code via},
     * for a {@link Kind#RELEASES} edge, how the releaser releases it ({@link Releaser#via()}), else
     * {@code null}.
     */
    record Edge(Task from, Primitive on, Kind kind, String relation, String via, Task to) {
        String text() {
            return from + " waits on " + on.describe() + ", " + relation + (to == null ? "" : " " + to);
        }

        static Edge heldBy(Task from, Primitive on, Task holder) {
            return new Edge(from, on, Kind.HOLDS, "held by", null, holder);
        }

        static Edge heldForWriteBy(Task from, Primitive on, Task writer) {
            return new Edge(from, on, Kind.HOLDS, "held for write by", null, writer);
        }

        static Edge behindQueuedWriter(Task from, Primitive on, Task writer) {
            return new Edge(from, on, Kind.QUEUED_WRITER, "behind queued writer", null, writer);
        }

        static Edge releasedBy(Task from, Primitive on, Releaser r) {
            return new Edge(from, on, Kind.RELEASES, ("released by " + r.via()).trim(), r.via().trim(), r.task());
        }
    }

    /** How many chains {@link #chains()} shows per blocked task. */
    static final int MAX_PATHS = 8;

    private final Map<Task, List<Edge>> edges = new LinkedHashMap<>();
    /** The tasks in an idle wait that the graph follows (see the constructor); they start no chain. */
    private final Set<Task> followedIdle = new HashSet<>();

    /**
     * The graph of {@code tasks}. A task in an idle wait ({@link Primitive#isIdleWait}: a daemon
     * asleep until something happens) is left out, except when an edge of a task already in the graph
     * reaches it and {@code knownReleasers} (the declared and runtime releasers, never learned ones)
     * names a task that releases its wait: then it is followed, with those releasers as its edges, as
     * mdmon asleep in its inotify watch stands behind the notify item.
     */
    WaitForGraph(List<Task> tasks, BiFunction<Task, Primitive, List<Releaser>> releasers,
                 BiFunction<Task, Primitive, List<Releaser>> knownReleasers) {
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            if (t.state() != Task.State.BLOCKED || on == null || on.isIdleWait()) {
                continue;
            }
            edges.put(t, edgesOf(t, on, tasks, releasers));
        }
        List<Task> reached = new ArrayList<>(edges.keySet());
        for (int i = 0; i < reached.size(); i++) {
            for (Edge e : edges.get(reached.get(i))) {
                Task to = e.to();
                if (to == null || edges.containsKey(to) || to.state() != Task.State.BLOCKED || to.waitingOn() == null
                        || !to.waitingOn().isIdleWait()) {
                    continue;
                }
                List<Edge> out = new ArrayList<>();
                for (Releaser r : knownReleasers.apply(to, to.waitingOn())) {
                    if (r.task() != null) {
                        out.add(Edge.releasedBy(to, to.waitingOn(), r));
                    }
                }
                if (!out.isEmpty()) {
                    edges.put(to, out);
                    followedIdle.add(to);
                    reached.add(to);
                }
            }
        }
    }

    /** The edges of {@code t}, blocked on {@code on} (not an idle wait). */
    private static List<Edge> edgesOf(Task t, Primitive on, List<Task> tasks, BiFunction<Task, Primitive, List<Releaser>> releasers) {
        List<Edge> out = new ArrayList<>();
        if (on instanceof RwSemaphore && ((RwSemaphore) on).queuedReaders().contains(t)) {
            // A reader is blocked by a writer holding the lock or queued ahead of it, never by readers,
            // and never by a writer queued behind it (the next release lets the first reader's phase in).
            RwSemaphore rw = (RwSemaphore) on;
            if (rw.writer() != null) {
                out.add(Edge.heldForWriteBy(t, on, rw.writer()));
            }
            for (Task w : rw.writersQueuedAhead(t)) {
                out.add(Edge.behindQueuedWriter(t, on, w));
            }
        } else {
            for (Task o : tasks) {
                if (o != t && o.holds(on)) {
                    out.add(Edge.heldBy(t, on, o));
                }
            }
            if (on instanceof RwSemaphore) {
                for (Task w : ((RwSemaphore) on).queuedWriters()) {
                    if (w == t) {
                        break; // only writers queued ahead of this one block it
                    }
                    out.add(Edge.behindQueuedWriter(t, on, w));
                }
            }
        }
        for (Releaser r : releasers.apply(t, on)) {
            // A task can stand behind itself: a rescuer waiting for an item only it could run.
            out.add(Edge.releasedBy(t, on, r));
        }
        return out;
    }

    /**
     * Up to {@code max} distinct cycles (by the set of tasks on them), each the first one found through
     * a blocked task, taking the tasks in id order and each task's edges in order.
     */
    List<List<Edge>> cycles(int max) {
        List<List<Edge>> out = new ArrayList<>();
        Set<Set<Task>> seen = new HashSet<>();
        for (Task start : edges.keySet()) {
            List<Edge> c = cycleThrough(start, start, new ArrayList<>(), new HashSet<>());
            if (c == null) {
                continue;
            }
            Set<Task> members = new HashSet<>();
            for (Edge e : c) {
                members.add(e.from());
            }
            if (seen.add(members)) {
                out.add(c);
                if (out.size() == max) {
                    break;
                }
            }
        }
        return out;
    }

    /** A path of edges from {@code t} back to {@code start}, or {@code null}. */
    private List<Edge> cycleThrough(Task start, Task t, List<Edge> path, Set<Task> visited) {
        if (!visited.add(t)) {
            return null;
        }
        for (Edge e : edges.getOrDefault(t, List.of())) {
            if (e.to() == null) {
                continue;
            }
            path.add(e);
            if (e.to() == start) {
                return new ArrayList<>(path);
            }
            List<Edge> c = cycleThrough(start, e.to(), path, visited);
            if (c != null) {
                return c;
            }
            path.remove(path.size() - 1);
        }
        return null;
    }

    /**
     * For each blocked task not in {@code skip} (the tasks on cycles) and not in an idle wait, every path of edges from it
     * (each task's edges in order) to where it ends: a task that waits on nothing, a releaser that is
     * not a task, a task in {@code skip}, or a task already on the path; at most {@value #MAX_PATHS}
     * paths per task.
     */
    List<List<Edge>> chains(Set<Task> skip) {
        List<List<Edge>> out = new ArrayList<>();
        for (Task start : edges.keySet()) {
            if (skip.contains(start) || followedIdle.contains(start)) {
                continue;
            }
            List<List<Edge>> paths = new ArrayList<>();
            paths(start, new ArrayList<>(), new HashSet<>(), skip, paths);
            out.addAll(paths);
        }
        return out;
    }

    private void paths(Task t, List<Edge> path, Set<Task> onPath, Set<Task> stopAt, List<List<Edge>> out) {
        List<Edge> es = t == null || stopAt.contains(t) ? null : edges.get(t);
        if (es == null || es.isEmpty() || !onPath.add(t)) {
            if (!path.isEmpty() && out.size() < MAX_PATHS) {
                out.add(new ArrayList<>(path));
            }
            return;
        }
        for (Edge e : es) {
            if (out.size() >= MAX_PATHS) {
                break;
            }
            path.add(e);
            paths(e.to(), path, onPath, stopAt, out);
            path.remove(path.size() - 1);
        }
        onPath.remove(t);
    }
}
