package dev.rescuer.analyze;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A graph of queues as a simulator scenario, to prove a rescuer plan by exploration. Each queue of
 * the graph is a real {@link WorkQueue}; an item of queue {@code q} queues one item on each queue
 * {@code q} waits on (through devices and points, contracted) and waits for it, then completes.
 * {@link #SUBMITTERS} tasks per top queue (one nothing waits on) queue an item there and wait.
 * Once the queues (and their rescuers) and the submitters exist, every further thread start fails,
 * as when memory is exhausted: the pool keeps the one worker it has, and everything else depends on rescuers.
 *
 * <p>Variants differ only in the rescuer domain of each queue (the one knob,
 * {@link Workqueues#presetRescuerDomain}); a queue without a domain has its own rescuer.
 */
public final class GraphScenario implements Scenario {

    /** Tasks that submit to each top queue at once. */
    public static final int SUBMITTERS = 2;

    /** A variant: its name, queue-to-domain assignment and what it is expected to do. */
    public record Plan(String name, Map<String, String> domains, boolean expectHang) {
    }

    private final String name;
    private final List<String> queues = new ArrayList<>();
    private final Set<String> memReclaim = new HashSet<>();
    private final Map<String, List<String>> waitsOn = new LinkedHashMap<>();
    private final List<String> tops = new ArrayList<>();
    private final Map<String, Plan> plans = new LinkedHashMap<>();
    private final List<Variant> variants = new ArrayList<>();

    /** The scenario of {@code graph}'s queues, with one variant per plan. */
    public GraphScenario(String name, WaitGraph graph, List<Plan> plans) {
        this.name = name;
        Map<String, List<String>> succ = new LinkedHashMap<>();
        for (WaitGraph.Node n : graph.nodes()) {
            succ.put(n.name(), new ArrayList<>());
            if (n.kind() == WaitGraph.NodeKind.QUEUE) {
                queues.add(n.name());
                if (n.memReclaim()) {
                    memReclaim.add(n.name());
                }
            }
        }
        for (WaitGraph.Edge e : graph.edges()) {
            succ.get(e.from()).add(e.to());
        }
        Set<String> waitedOn = new HashSet<>();
        for (String q : queues) {
            List<String> lower = contractedSuccessors(graph, succ, q);
            waitsOn.put(q, lower);
            waitedOn.addAll(lower);
        }
        for (String q : queues) {
            if (!waitedOn.contains(q)) {
                tops.add(q);
            }
        }
        for (Plan p : plans) {
            this.plans.put(p.name(), p);
            variants.add(new Variant(p.name(), "rescuer domains " + p.domains(),
                    p.expectHang() ? Variant.Expectation.HANGS : Variant.Expectation.COMPLETES));
        }
    }

    /** The queues {@code q}'s items wait on first: through non-queue nodes, up to the first queue of each path. */
    private static List<String> contractedSuccessors(WaitGraph g, Map<String, List<String>> succ, String q) {
        List<String> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(succ.get(q));
        while (!todo.isEmpty()) {
            String v = todo.poll();
            if (!seen.add(v)) {
                continue;
            }
            if (g.node(v).kind() == WaitGraph.NodeKind.QUEUE) {
                out.add(v);
            } else {
                todo.addAll(succ.get(v));
            }
        }
        return out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "queues of a declared graph, each item waiting on one item of every queue below it; no thread can be started";
    }

    @Override
    public List<Variant> variants() {
        return variants;
    }

    @Override
    public long estimatedSteps() {
        return 200L + 40L * queues.size();
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        Plan plan = plans.get(variant.name());
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name(name).workqueues(WorkqueueConfig.defaults().withCpus(1)));
        Workqueues wqs = sys.workqueues();
        plan.domains().forEach(wqs::presetRescuerDomain);
        Map<String, WorkQueue> live = new LinkedHashMap<>();
        for (String q : queues) {
            live.put(q, memReclaim.contains(q) ? wqs.create(q, 0, WqFlag.MEM_RECLAIM) : wqs.create(q, 0));
        }
        AtomicInteger ids = new AtomicInteger();
        Submit submit = new Submit() {
            @Override
            public Completion submit(String q) {
                int id = ids.incrementAndGet();
                Completion done = new Completion(ctx.platform(), q + "#" + id + " done", "graph-item");
                Work item = new Work(q + "#" + id, () -> {
                    for (String lower : waitsOn.get(q)) {
                        submit(lower).waitFor();
                    }
                    done.complete();
                    ctx.progress();
                });
                ctx.releasers(done, () -> Releaser.forWork(wqs, item));
                live.get(q).queue(item);
                return done;
            }
        };
        for (String top : tops) {
            for (int i = 0; i < SUBMITTERS; i++) {
                ctx.spawn("submit/" + top + "/" + i, () -> submit.submit(top).waitFor());
            }
        }
        ctx.faults().threadStartFailsAfter(0); // from here on no worker can be created
    }

    private interface Submit {
        Completion submit(String queue);
    }
}
