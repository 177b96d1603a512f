package dev.rescuer.analyze;

import dev.rescuer.check.Dependency;
import dev.rescuer.check.LockClass;
import dev.rescuer.core.wq.RescuerDomain;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link WaitGraph} learned by the validator ({@code check}) instead of declared: every lock and
 * event class is a node, every recorded dependency an edge. A workqueue's pseudo-lock class
 * {@code (wq_completion)NAME}, which an item holds while it runs, becomes the queue {@code NAME}
 * (flags and domain from the live subsystem, if it still has the queue); the rest are wait points,
 * except a rescuer domain's class {@code (wq_rescuer)NAME}, which says what the run's plan shared
 * rather than what the code waits on, and is left out.
 * An item of queue A that waits on a completion a B item signals gives A → completion → B (a WAIT
 * edge, then DEPT's SIGNAL edge), which is exactly "A waits on B".
 *
 * <p>Limit: only what the run did is learned; a wait that did not happen in that run is missing
 * (the declared graph has it). Lock-order edges are kept too, so a lock cycle shows as a cycle.
 */
public final class LearnedGraph {

    private static final String QUEUE_CLASS = WorkQueue.CLASS_PREFIX;
    /** A rescuer domain's class: what the current plan shares, not a wait of the code; left out. */
    private static final String DOMAIN_CLASS = RescuerDomain.CLASS_PREFIX;

    private LearnedGraph() {
    }

    /** The graph of {@code dependencies}, queues looked up in {@code workqueues} (may be {@code null}). */
    public static WaitGraph from(List<Dependency> dependencies, Workqueues workqueues) {
        Map<String, WorkQueue> live = new HashMap<>();
        if (workqueues != null) {
            for (WorkQueue q : workqueues.queues()) {
                live.put(q.name(), q);
            }
        }
        WaitGraph g = new WaitGraph();
        Map<LockClass, String> names = new HashMap<>();
        for (Dependency d : dependencies) {
            if (d.from().name().startsWith(DOMAIN_CLASS) || d.to().name().startsWith(DOMAIN_CLASS)) {
                continue; // the plan the run had, which a plan computed from the graph replaces
            }
            for (LockClass c : List.of(d.from(), d.to())) {
                names.computeIfAbsent(c, k -> declare(g, k, live));
            }
            g.waitsOn(names.get(d.from()), names.get(d.to()), d.describe());
        }
        return g;
    }

    private static String declare(WaitGraph g, LockClass c, Map<String, WorkQueue> live) {
        String name = c.toString();
        if (c.name().startsWith(QUEUE_CLASS) && c.subclass() == 0) {
            String queue = c.name().substring(QUEUE_CLASS.length());
            WorkQueue q = live.get(queue);
            if (q != null) {
                g.queue(q);
            } else {
                g.queue(queue, false, null);
            }
            return queue;
        }
        g.node(name, WaitGraph.NodeKind.POINT);
        return name;
    }
}
