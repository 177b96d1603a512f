package dev.rescuer.analyze;

import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.deps.WaitGraph.Edge;
import dev.rescuer.storage.deps.WaitGraph.EdgeKind;
import dev.rescuer.storage.deps.WaitGraph.Node;
import dev.rescuer.storage.deps.WaitGraph.NodeKind;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph walking Tejun Heo asked for in the seed thread: from a {@link WaitGraph} it computes
 * which queues need a rescuer (with the path that says why), the layering violations, and the
 * least partition of the rescued queues into rescuer domains.
 *
 * <p><b>Which queues need a rescuer.</b> Every queue reachable from a reclaim source (writeback,
 * a shrinker, swap) or from a block device's I/O (reclaim can wait on any device: a filesystem or
 * swap may sit on it; this is why a verity under a read-only stack still needs one, the
 * worker-exhaustion case). The evidence is a shortest path from such a root (breadth first).
 *
 * <p><b>Violations.</b> A queue without {@code MEM_RECLAIM} that needs a rescuer; a user-space task
 * that reclaim or I/O can wait on; an item of a reclaim queue flushing a queue without a rescuer
 * ({@code check_flush_dependency}); a cycle (then no plan exists, and the cycle is printed).
 *
 * <p><b>The plan.</b> Rescued queues are those with {@code MEM_RECLAIM}: only they have a rescuer
 * (upstream's count, {@code kernelRescuers}, is theirs), and a domain on any other queue has no
 * effect ({@code Workqueues.presetRescuerDomain}); a queue that needs a rescuer and lacks the flag is a
 * violation, and it is left out of the plan, though a path through it still orders the queues
 * above and below it. Two of them
 * must not share a rescuer if one can wait, through any path, on the other: the shared rescuer
 * would run the upper item and the lower one would never run. Such queues form a chain of the
 * partial order "waits on"; an antichain can share. By Mirsky's theorem the least number of
 * antichains covering the order is the length of its longest chain, and the partition by height
 * achieves it: a queue's height is the number of rescued queues on the longest path from it down,
 * itself included; a queue that waits on another has a greater height, so each height class is an
 * antichain, and there are exactly as many classes as the longest chain has queues. Linear in the
 * size of the graph (one topological sort, one pass).
 */
public final class Analyzer {

    private Analyzer() {
    }

    /** Analyzes {@code graph}; {@code source} names where it came from, for the report. */
    public static Analysis analyze(WaitGraph graph, String source) {
        List<Node> nodes = graph.nodes();
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            index.put(nodes.get(i).name(), i);
        }
        int n = nodes.size();
        List<Edge> edges = graph.edges();
        int[][] succ = adjacency(n, edges, index);

        List<Analysis.Violation> violations = new ArrayList<>();
        List<String> cycle = findCycle(nodes, succ);
        if (cycle != null) {
            violations.add(new Analysis.Violation("cycle", "a cycle of waits: no rescuer plan can break it", cycle));
        }

        // Reachability from reclaim and from I/O, breadth first, with parents for the evidence.
        int[] parent = new int[n];
        Arrays.fill(parent, -2);
        ArrayDeque<Integer> q = new ArrayDeque<>();
        for (int pass = 0; pass < 2; pass++) { // reclaim roots first, so their paths are preferred
            for (int i = 0; i < n; i++) {
                NodeKind k = nodes.get(i).kind();
                if (parent[i] == -2 && (pass == 0 ? k == NodeKind.RECLAIM : k == NodeKind.DEVICE)) {
                    parent[i] = -1;
                    q.add(i);
                }
            }
        }
        while (!q.isEmpty()) {
            int v = q.poll();
            for (int s : succ[v]) {
                if (parent[s] == -2) {
                    parent[s] = v;
                    q.add(s);
                }
            }
        }

        List<Analysis.Need> needs = new ArrayList<>();
        List<String> notNeeded = new ArrayList<>();
        List<String> reclaimUnneeded = new ArrayList<>();
        boolean[] rescued = new boolean[n];
        for (int i = 0; i < n; i++) {
            Node node = nodes.get(i);
            boolean reached = parent[i] != -2;
            if (node.kind() == NodeKind.QUEUE) {
                if (reached) {
                    List<String> path = path(nodes, parent, i);
                    needs.add(new Analysis.Need(node.name(), path));
                    if (!node.memReclaim()) {
                        violations.add(new Analysis.Violation("no-rescuer-on-reclaim-path", "queue " + node.name()
                                + " lacks WQ_MEM_RECLAIM but reclaim can wait on it", path));
                    }
                } else {
                    notNeeded.add(node.name());
                    if (node.memReclaim()) {
                        reclaimUnneeded.add(node.name());
                    }
                }
                // Only a WQ_MEM_RECLAIM queue has a rescuer (alloc_workqueue -> init_rescuer), so only it
                // is counted and planned: a domain names a rescuer to share, and one without a rescuer
                // has nothing to share (the violation above says it needs one).
                rescued[i] = node.memReclaim();
            } else if (node.kind() == NodeKind.TASK && reached && parent[i] != -1) {
                violations.add(new Analysis.Violation("task-on-reclaim-path", "user-space task " + node.name()
                        + " is waited on by reclaim or I/O (a daemon cannot be given a rescuer)", path(nodes, parent, i)));
            }
        }
        for (Edge e : edges) {
            if (e.kind() != EdgeKind.FLUSHES) {
                continue;
            }
            Node from = nodes.get(index.get(e.from()));
            Node to = nodes.get(index.get(e.to()));
            if (to.kind() == NodeKind.QUEUE && !to.memReclaim() && (from.memReclaim() || parent[index.get(e.from())] != -2)) {
                violations.add(new Analysis.Violation("flush-without-rescuer", "reclaim-path queue " + from.name()
                        + " flushes " + to.name() + ", which has no rescuer (check_flush_dependency)", List.of(from.name(), to.name())));
            }
        }

        List<Analysis.QueueInfo> queues = new ArrayList<>();
        for (Node node : nodes) {
            if (node.kind() == NodeKind.QUEUE) {
                queues.add(new Analysis.QueueInfo(node.name(), node.memReclaim(), List.copyOf(node.flags()), node.domain()));
            }
        }
        int kernelRescuers = 0;
        for (boolean r : rescued) {
            kernelRescuers += r ? 1 : 0;
        }
        if (cycle != null) {
            return new Analysis(source, queues, needs, notNeeded, reclaimUnneeded, violations, null, kernelRescuers, null);
        }
        int[] height = new int[n];
        int[] next = new int[n];
        for (int v : reverseTopological(n, succ)) {
            int best = 0;
            next[v] = -1;
            for (int s : succ[v]) {
                if (height[s] > best) {
                    best = height[s];
                    next[v] = s;
                }
            }
            height[v] = best + (rescued[v] ? 1 : 0);
        }
        int top = -1;
        for (int i = 0; i < n; i++) {
            if (rescued[i] && (top < 0 || height[i] > height[top])) {
                top = i;
            }
        }
        List<String> chain = new ArrayList<>();
        for (int v = top; v >= 0; v = next[v]) {
            if (rescued[v]) {
                chain.add(nodes.get(v).name());
            }
        }
        Collections.reverse(chain); // bottom to top
        int k = top < 0 ? 0 : height[top];
        List<List<String>> domains = new ArrayList<>();
        for (int h = 0; h < k; h++) {
            domains.add(new ArrayList<>());
        }
        for (int i = 0; i < n; i++) {
            if (rescued[i]) {
                domains.get(height[i] - 1).add(nodes.get(i).name());
            }
        }
        domains.replaceAll(List::copyOf);
        return new Analysis(source, queues, needs, notNeeded, reclaimUnneeded, violations, chain, kernelRescuers, domains);
    }

    private static int[][] adjacency(int n, List<Edge> edges, Map<String, Integer> index) {
        int[] deg = new int[n];
        for (Edge e : edges) {
            deg[index.get(e.from())]++;
        }
        int[][] succ = new int[n][];
        for (int i = 0; i < n; i++) {
            succ[i] = new int[deg[i]];
        }
        int[] fill = new int[n];
        for (Edge e : edges) {
            int f = index.get(e.from());
            succ[f][fill[f]++] = index.get(e.to());
        }
        return succ;
    }

    private static List<String> path(List<Node> nodes, int[] parent, int v) {
        List<String> p = new ArrayList<>();
        for (int x = v; x >= 0; x = parent[x]) {
            p.add(nodes.get(x).name());
        }
        Collections.reverse(p); // from the root down to the queue
        return p;
    }

    /** Nodes so that every node comes after all it waits on (Kahn's algorithm on the reversed order). */
    private static int[] reverseTopological(int n, int[][] succ) {
        int[] outstanding = new int[n];
        List<List<Integer>> pred = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pred.add(new ArrayList<>());
        }
        for (int v = 0; v < n; v++) {
            outstanding[v] = succ[v].length;
            for (int s : succ[v]) {
                pred.get(s).add(v);
            }
        }
        int[] order = new int[n];
        int head = 0;
        int tail = 0;
        for (int v = 0; v < n; v++) {
            if (outstanding[v] == 0) {
                order[tail++] = v;
            }
        }
        while (head < tail) {
            int v = order[head++];
            for (int p : pred.get(v)) {
                if (--outstanding[p] == 0) {
                    order[tail++] = p;
                }
            }
        }
        if (tail != n) {
            throw new IllegalStateException("graph has a cycle"); // callers look for cycles first
        }
        return order;
    }

    /** One cycle as node names, the first node repeated at the end, or {@code null}. Iterative DFS. */
    private static List<String> findCycle(List<Node> nodes, int[][] succ) {
        int n = nodes.size();
        byte[] state = new byte[n]; // 0 new, 1 on stack, 2 done
        int[] pos = new int[n];
        int[] stack = new int[n];
        for (int root = 0; root < n; root++) {
            if (state[root] != 0) {
                continue;
            }
            int sp = 0;
            stack[sp++] = root;
            state[root] = 1;
            while (sp > 0) {
                int v = stack[sp - 1];
                if (pos[v] < succ[v].length) {
                    int s = succ[v][pos[v]++];
                    if (state[s] == 1) {
                        List<String> c = new ArrayList<>();
                        int from = sp - 1;
                        while (stack[from] != s) {
                            from--;
                        }
                        for (int i = from; i < sp; i++) {
                            c.add(nodes.get(stack[i]).name());
                        }
                        c.add(nodes.get(s).name());
                        return c;
                    }
                    if (state[s] == 0) {
                        state[s] = 1;
                        stack[sp++] = s;
                    }
                } else {
                    state[v] = 2;
                    sp--;
                }
            }
        }
        return null;
    }
}
