package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Who waits for whom among blocked tasks, built from what the primitives record: a blocked task has an
 * edge to every task that holds what it waits on, to every writer queued ahead of it on a
 * rw-semaphore (writer preference), and to every releaser the scenario declared for an event (a
 * completion's completer, a semaphore's upper). A releaser that is not a task (a pending work item)
 * ends a chain.
 *
 * <p>{@link #cycle()} is the first cycle found from the blocked tasks in id order; {@link #chains()}
 * follows each blocked task's first edge to the end when there is no cycle.
 */
final class WaitForGraph {

    /** One edge: {@code from} waits on {@code on}, which {@code to} (a task or a description) stands behind. */
    record Edge(Task from, Primitive on, String relation, Object to) {
        String text() {
            return from + " waits on " + on.describe() + ", " + relation + " " + (to instanceof Task ? to.toString() : to);
        }
    }

    private final Map<Task, List<Edge>> edges = new LinkedHashMap<>();

    WaitForGraph(List<Task> tasks, Function<Primitive, List<Object>> releasers) {
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            if (t.state() != Task.State.BLOCKED || on == null || on.isIdleWait()) {
                continue;
            }
            List<Edge> out = new ArrayList<>();
            if (on instanceof RwSemaphore && ((RwSemaphore) on).queuedReaders().contains(t)) {
                // A reader is blocked by a writer holding the lock or queued ahead of it, never by readers.
                RwSemaphore rw = (RwSemaphore) on;
                if (rw.writer() != null) {
                    out.add(new Edge(t, on, "held for write by", rw.writer()));
                }
                for (Task w : rw.queuedWriters()) {
                    out.add(new Edge(t, on, "behind queued writer", w));
                }
            } else {
                for (Task o : tasks) {
                    if (o != t && o.holds(on)) {
                        out.add(new Edge(t, on, "held by", o));
                    }
                }
                if (on instanceof RwSemaphore) {
                    for (Task w : ((RwSemaphore) on).queuedWriters()) {
                        if (w == t) {
                            break; // only writers queued ahead of this one block it
                        }
                        out.add(new Edge(t, on, "behind queued writer", w));
                    }
                }
            }
            for (Object r : releasers.apply(on)) {
                if (r != t) {
                    out.add(new Edge(t, on, "released by", r));
                }
            }
            edges.put(t, out);
        }
    }

    /** The blocked tasks' edges. */
    Map<Task, List<Edge>> edges() {
        return edges;
    }

    /** The first cycle, as its edges in order, or an empty list. */
    List<Edge> cycle() {
        Set<Task> done = new HashSet<>();
        for (Task start : edges.keySet()) {
            List<Edge> path = new ArrayList<>();
            Map<Task, Integer> onPath = new HashMap<>();
            List<Edge> c = dfs(start, path, onPath, done);
            if (c != null) {
                return c;
            }
        }
        return List.of();
    }

    private List<Edge> dfs(Task t, List<Edge> path, Map<Task, Integer> onPath, Set<Task> done) {
        if (done.contains(t)) {
            return null;
        }
        onPath.put(t, path.size());
        for (Edge e : edges.getOrDefault(t, List.of())) {
            if (!(e.to() instanceof Task)) {
                continue;
            }
            Task next = (Task) e.to();
            path.add(e);
            Integer at = onPath.get(next);
            if (at != null) {
                return new ArrayList<>(path.subList(at, path.size()));
            }
            List<Edge> c = dfs(next, path, onPath, done);
            if (c != null) {
                return c;
            }
            path.remove(path.size() - 1);
        }
        onPath.remove(t);
        done.add(t);
        return null;
    }

    /** For each blocked task, its chain of first edges until something that waits on nothing. */
    List<List<Edge>> chains() {
        List<List<Edge>> out = new ArrayList<>();
        for (Task start : edges.keySet()) {
            List<Edge> chain = new ArrayList<>();
            Set<Task> seen = new HashSet<>();
            Task t = start;
            while (t != null && seen.add(t)) {
                List<Edge> es = edges.get(t);
                if (es == null || es.isEmpty()) {
                    break;
                }
                Edge e = es.get(0);
                chain.add(e);
                t = e.to() instanceof Task ? (Task) e.to() : null;
            }
            out.add(chain);
        }
        return out;
    }
}
