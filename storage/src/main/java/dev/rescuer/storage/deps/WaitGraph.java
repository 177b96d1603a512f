package dev.rescuer.storage.deps;

import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who waits on whom, as data: the declared dependency graph of a stack (the design's "who waits on
 * whom is data"). Nodes are workqueues (with their flags and rescuer domain), block devices (their
 * I/O), reclaim sources (writeback, shrinkers, swap), user-space tasks, and named wait points shared
 * by several declarers (an origin's pending exceptions). An edge {@code a -> b} says: an item of
 * {@code a} (or an I/O on {@code a}, or the reclaim source, or the task) can wait until {@code b}
 * makes progress; a {@link EdgeKind#FLUSHES} edge says an item of queue {@code a} flushes queue
 * {@code b} ({@code check_flush_dependency}).
 *
 * <p>Targets declare as they are constructed, next to the code that creates the queue or takes the
 * lower device, through {@code DeviceMapper.waitGraph()}; the analyzer reads it. Declaring the same
 * node or edge twice is harmless (stacks build the same mechanism for each device); declaring a
 * name as two kinds of node is refused.
 *
 * <p>What a new target must declare: every queue it creates ({@link #queue(WorkQueue)}), an edge
 * from its device to each queue whose items an I/O on the device can wait for (a deferred
 * completion, a copy, a metadata write), and an edge from each queue to every device or queue its
 * items wait on. {@code TargetContext.getDevice} already declares device-to-lower-device edges.
 * Code outside device-mapper targets (writeback, the journal, md, mdmon, loop, swap, dm-bufio) has a
 * {@code declareWaits(WaitGraph)} method that whoever builds it calls once its device is declared
 * (the stack kinds and {@code PageCacheSetup} do); reclaim by page scanning is the one
 * {@link #VMSCAN} node they share.
 *
 * <p>Thread safety: every method is {@code synchronized} (declarations happen at construction,
 * off any hot path). Not a kernel structure: the kernel has no dependency graph, which is what
 * Mikulas Patocka pointed out in the seed thread.
 */
public final class WaitGraph {

    /**
     * The reclaim source page reclaim declares itself as ({@code shrink_folio_list}, in kswapd and in
     * direct reclaim): writeback and any task that allocates under pressure name it.
     */
    public static final String VMSCAN = "vmscan";

    /** What a node stands for. */
    public enum NodeKind {
        /** A workqueue; its items are what waits. */
        QUEUE,
        /** A block device; I/O submitted to it is what waits. */
        DEVICE,
        /** A reclaim source: writeback, a shrinker, swap. Reclaim waits on what it points to. */
        RECLAIM,
        /** A user-space task (a daemon that a kernel path waits on is a layering violation). */
        TASK,
        /** A wait point several declarers share (an origin's pending exceptions). */
        POINT
    }

    /** What an edge says. */
    public enum EdgeKind {
        /** {@code from} can wait until {@code to} makes progress. */
        WAITS,
        /** An item of queue {@code from} flushes queue {@code to}. */
        FLUSHES
    }

    /**
     * A node.
     *
     * @param name unique over all kinds
     * @param kind what it stands for
     * @param memReclaim for a queue: created with {@code WQ_MEM_RECLAIM} (it has a rescuer)
     * @param flags for a queue: its flags' names
     * @param domain for a queue: its rescuer domain, or {@code null} for its own rescuer (or none)
     */
    public record Node(String name, NodeKind kind, boolean memReclaim, Set<String> flags, String domain) {
        /** Checks the name and copies the flags. */
        public Node {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("a wait-graph node needs a non-blank name");
            }
            flags = Collections.unmodifiableSet(new TreeSet<>(flags));
        }
    }

    /**
     * An edge.
     *
     * @param from the waiter
     * @param to what it waits on
     * @param kind waits or flushes
     * @param why the mechanism, in the kernel's words ({@code "snapshot_map -> start_copy"})
     */
    public record Edge(String from, String to, EdgeKind kind, String why) {
    }

    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Set<Edge> edges = new LinkedHashSet<>();

    /** Declares a queue from the live object: its name, flags and rescuer domain. */
    public synchronized void queue(WorkQueue q) {
        queue(q, q.name());
    }

    /**
     * Declares a queue from the live object under the node name {@code node}, for a queue whose name
     * is also a device's (loop's {@code alloc_workqueue("loop%d")} beside the disk {@code loop%d}).
     */
    public synchronized void queue(WorkQueue q, String node) {
        Set<String> flags = new TreeSet<>();
        q.flags().forEach(f -> flags.add(f.name()));
        put(new Node(node, NodeKind.QUEUE, q.hasRescuer(), flags,
                q.rescuerDomain() == null ? null : q.rescuerDomain().name()));
    }

    /** Declares a queue by name (for graphs of code outside the model). */
    public synchronized void queue(String name, boolean memReclaim, String domain) {
        put(new Node(name, NodeKind.QUEUE, memReclaim, memReclaim ? Set.of(WqFlag.MEM_RECLAIM.name()) : Set.of(), domain));
    }

    /** Declares a node of another kind than a queue. */
    public synchronized void node(String name, NodeKind kind) {
        if (kind == NodeKind.QUEUE) {
            throw new IllegalArgumentException("declare queue " + name + " with queue(...)");
        }
        put(new Node(name, kind, false, Set.of(), null));
    }

    private void put(Node n) {
        Node old = nodes.get(n.name());
        if (old != null && old.kind() != n.kind()) {
            throw new IllegalArgumentException("wait graph: " + n.name() + " is declared as a " + old.kind()
                    + " and as a " + n.kind());
        }
        if (old == null || n.kind() == NodeKind.QUEUE) {
            nodes.put(n.name(), n); // a queue declared again (a later, live declaration) keeps its newest flags and domain
        }
    }

    /** Declares that {@code from} can wait until {@code to} makes progress; both must be declared. */
    public synchronized void waitsOn(String from, String to, String why) {
        edge(new Edge(from, to, EdgeKind.WAITS, why));
    }

    /** Declares that an item of queue {@code from} flushes queue {@code to}. */
    public synchronized void flushes(String from, String to, String why) {
        edge(new Edge(from, to, EdgeKind.FLUSHES, why));
    }

    private void edge(Edge e) {
        for (String end : List.of(e.from(), e.to())) {
            if (!nodes.containsKey(end)) {
                throw new IllegalArgumentException("wait graph: edge " + e.from() + " -> " + e.to() + " names "
                        + end + ", which is not declared");
            }
        }
        edges.add(e);
    }

    /** The nodes, in declaration order. */
    public synchronized List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    /** The node called {@code name}, or {@code null}. */
    public synchronized Node node(String name) {
        return nodes.get(name);
    }

    /** The edges, in declaration order. */
    public synchronized List<Edge> edges() {
        return new ArrayList<>(edges);
    }

    /** The kinds of flag a declared queue may carry. */
    public static Set<String> flagNames() {
        Set<String> s = new TreeSet<>();
        EnumSet.allOf(WqFlag.class).forEach(f -> s.add(f.name()));
        return s;
    }
}
