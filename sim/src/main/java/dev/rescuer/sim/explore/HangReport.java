package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a stopped run looked like, as the kernel would report it: every blocked task with what it waits
 * on, for how long and what it holds; the wait-for cycle (or, without one, each blocked task's chain);
 * the hung-task detector's and the workqueue watchdog's reports; and the workqueue dump. Built from
 * the frozen world before tear-down; rendered as text or as a JSON-ready map.
 */
public final class HangReport {

    private static final int MAX_CYCLES = 4;

    /** One blocked task. */
    public record BlockedTask(String task, long id, String waitsOn, String primitive, String primitiveClass,
                              String kind, long blockedNanos, List<String> holds, String workqueue) { }

    private final String kind;
    private final String reason;
    private final long virtualNanos;
    private final long steps;
    private final List<BlockedTask> blocked;
    private final List<String> runnable;
    private final List<List<String>> cycles;
    private final List<List<String>> chains;
    private final List<String> hungTasks;
    private final List<String> lockups;
    private final String workqueueDump;

    private HangReport(String kind, String reason, long virtualNanos, long steps, List<BlockedTask> blocked,
                       List<String> runnable, List<List<String>> cycles, List<List<String>> chains, List<String> hungTasks,
                       List<String> lockups, String workqueueDump) {
        this.kind = kind;
        this.reason = reason;
        this.virtualNanos = virtualNanos;
        this.steps = steps;
        this.blocked = blocked;
        this.runnable = runnable;
        this.cycles = cycles;
        this.chains = chains;
        this.hungTasks = hungTasks;
        this.lockups = lockups;
        this.workqueueDump = workqueueDump;
    }

    /** Builds the report of a stopped run; called under the simulator's inspection. */
    static HangReport of(String kind, String reason, long now, long steps, List<Task> tasks, ScenarioContext ctx) {
        List<BlockedTask> blocked = new ArrayList<>();
        List<String> runnable = new ArrayList<>();
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            if (t.state() == Task.State.BLOCKED && on != null) {
                if (on.isIdleWait()) {
                    continue;
                }
                List<String> holds = new ArrayList<>();
                for (Primitive p : t.heldPrimitives()) {
                    holds.add(p.describe());
                }
                blocked.add(new BlockedTask(t.name(), t.id(), on.describe(), on.name(), on.lockClass(), on.kind(),
                        now - t.waitingSinceNanos(), holds, Workqueues.describeWorker(t)));
            } else if (t.state() == Task.State.RUNNING) {
                runnable.add(t.toString());
            }
        }
        WaitForGraph g = new WaitForGraph(tasks, ctx::releasersOf);
        List<List<String>> cycles = new ArrayList<>();
        for (List<WaitForGraph.Edge> c : g.cycles(MAX_CYCLES)) {
            List<String> lines = new ArrayList<>();
            for (WaitForGraph.Edge e : c) {
                lines.add(e.text());
            }
            cycles.add(lines);
        }
        List<List<String>> chains = new ArrayList<>();
        if (cycles.isEmpty()) {
            for (List<WaitForGraph.Edge> chain : g.chains()) {
                List<String> c = new ArrayList<>();
                for (WaitForGraph.Edge e : chain) {
                    c.add(e.text());
                }
                if (!c.isEmpty()) {
                    chains.add(c);
                }
            }
        }
        String dump = ctx.system() != null && ctx.system().hasWorkqueues() ? ctx.system().workqueues().dump() : null;
        return new HangReport(kind, reason, now, steps, blocked, runnable, cycles, chains,
                List.copyOf(ctx.hungTaskReports()), List.copyOf(ctx.lockupReports()), dump);
    }

    /** {@code deadlock}, {@code hung task}, {@code livelock} or {@code failure}. */
    public String kind() {
        return kind;
    }

    /** Why the run stopped, in a sentence. */
    public String reason() {
        return reason;
    }

    /** The blocked tasks (idle sleepers left out). */
    public List<BlockedTask> blocked() {
        return blocked;
    }

    /** The first wait-for cycle as edges, or empty. */
    public List<String> cycle() {
        return cycles.isEmpty() ? List.of() : cycles.get(0);
    }

    /** The distinct wait-for cycles (at most four), each as edges. */
    public List<List<String>> cycles() {
        return cycles;
    }

    /** Each blocked task's wait-for chain, when there is no cycle. */
    public List<List<String>> chains() {
        return chains;
    }

    /** The workqueue dump, or {@code null} without workqueues. */
    public String workqueueDump() {
        return workqueueDump;
    }

    /** The report as nested maps and lists, ready for a JSON writer. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("reason", reason);
        m.put("virtual_time_ns", virtualNanos);
        m.put("steps", steps);
        List<Map<String, Object>> bl = new ArrayList<>();
        for (BlockedTask b : blocked) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("task", b.task());
            e.put("pid", b.id());
            e.put("waits_on", Map.of("name", b.primitive(), "class", b.primitiveClass(), "kind", b.kind()));
            e.put("blocked_ns", b.blockedNanos());
            e.put("holds", b.holds());
            e.put("workqueue", b.workqueue());
            bl.add(e);
        }
        m.put("blocked_tasks", bl);
        m.put("runnable_tasks", runnable);
        m.put("wait_for_cycle", cycle());
        m.put("wait_for_cycles", cycles);
        m.put("wait_for_chains", chains);
        m.put("hung_task_reports", hungTasks);
        m.put("workqueue_lockups", lockups);
        m.put("workqueue_dump", workqueueDump);
        return m;
    }

    /** The report as the kernel log would show it. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(kind.toUpperCase()).append(": ").append(reason).append('\n');
        sb.append("at virtual time ").append(String.format("%.3f", virtualNanos / 1e9)).append(" s after ").append(steps).append(" scheduling steps\n");
        sb.append("\nBlocked tasks:\n");
        if (blocked.isEmpty()) {
            sb.append("  (none)\n");
        }
        for (BlockedTask b : blocked) {
            sb.append("  ").append(b.task()).append(':').append(b.id()).append(" blocked for ")
                    .append(String.format("%.3f", b.blockedNanos() / 1e9)).append(" s on ").append(b.waitsOn()).append('\n');
            if (b.workqueue() != null) {
                sb.append("    ").append(b.workqueue()).append('\n');
            }
            if (!b.holds().isEmpty()) {
                sb.append("    holding: ").append(String.join(", ", b.holds())).append('\n');
            }
        }
        if (!runnable.isEmpty()) {
            sb.append("Runnable tasks: ").append(String.join(", ", runnable)).append('\n');
        }
        if (!cycles.isEmpty()) {
            for (List<String> c : cycles) {
                sb.append(cycles.size() == 1 ? "\nWait-for cycle:\n" : "\nWait-for cycle " + (cycles.indexOf(c) + 1) + " of " + cycles.size() + ":\n");
                for (String e : c) {
                    sb.append("  ").append(e).append('\n');
                }
            }
        } else if (!chains.isEmpty()) {
            sb.append("\nWait-for chains (no cycle through tasks):\n");
            for (List<String> c : chains) {
                sb.append("  ").append(String.join("\n    -> ", c)).append('\n');
            }
        }
        if (!hungTasks.isEmpty()) {
            sb.append("\nHung-task detector:\n");
            for (String h : hungTasks) {
                sb.append(h.stripTrailing().indent(2));
            }
        }
        if (!lockups.isEmpty()) {
            sb.append("\nWorkqueue watchdog: ").append(lockups.size()).append(" lockup report(s); the first:\n");
            sb.append(lockups.get(0).stripTrailing().indent(2));
        }
        if (workqueueDump != null) {
            sb.append('\n').append(workqueueDump.stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return toText();
    }
}
