package dev.rescuer.sim.explore;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.RunningWork;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.sim.SimPlatform;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a stopped run looked like, as the kernel would report it: every blocked task with what it waits
 * on, for how long, whether the wait is timed (and when it times out), how many waits in a row it
 * made there (a timed retry loop's rounds) and what it holds; every runnable task, whether it spins,
 * its work item and the waits it made before running again; the wait-for cycles (as structured
 * {@link CycleLink}s, and as their text lines), and the chains of
 * the blocked tasks on none; the hung-task detector's and the workqueue watchdog's reports; and the workqueue dump. Built from
 * the frozen world before tear-down; rendered as text or as a JSON-ready map.
 */
public final class HangReport {

    private static final int MAX_CYCLES = 4;

    /**
     * One blocked task.
     *
     * @param blockedNanos how long its current wait has lasted
     * @param timesOutInNanos for a timed wait, how long until it times out (0 once it has, and the task
     *     has yet to re-check); {@code -1} for a wait without a deadline
     * @param waitsInARow how many waits in a row it made on this primitive, this one included (a timed
     *     retry loop, such as a mempool's 5 s re-check, makes one per round)
     * @param waitingInAllNanos how long since the first of those waits began
     * @param aboutToRecheck woken or timed out, it has yet to run and re-check its condition
     */
    public record BlockedTask(String task, long id, String waitsOn, String primitive, String primitiveClass,
                              String kind, long blockedNanos, long timesOutInNanos, int waitsInARow, long waitingInAllNanos,
                              boolean aboutToRecheck, List<String> holds, String workqueue) {

        /** Whether the wait has a deadline. */
        public boolean timed() {
            return timesOutInNanos >= 0;
        }
    }

    /**
     * One link of a wait-for cycle, structured for pictures and JSON: {@code task} waits on a
     * primitive, and task {@code to} stands behind it as {@code edge} says; the cycle's next link starts
     * at {@code to}.
     *
     * @param runs what {@code task} runs as a worker or rescuer, or {@code null}
     * @param primitive the instance name of what it waits on ({@code primitiveClass} its lockdep class,
     *     {@code primitiveKind} its kind: mutex, rwsem, completion, ...)
     * @param edge {@code holds} ({@code to} holds it, or holds it for write), {@code queued writer}
     *     ({@code to} is a writer queued ahead on the rw-semaphore) or {@code releases} ({@code to} would
     *     release the event)
     * @param via for {@code releases}, how {@code to} releases it (for example "work wb#3 on workqueue
     *     writeback, pending; its rescuer is"); {@code null} otherwise
     * @param text the link as the text report's line
     * @param toRuns what {@code to} runs as a worker or rescuer, or {@code null}
     */
    public record CycleLink(String task, long pid, RunningWork runs, String primitive, String primitiveClass,
                            String primitiveKind, String edge, String via, String to, long toPid, RunningWork toRuns,
                            String text) {

        /** The link as a JSON-ready map. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", task);
            m.put("pid", pid);
            m.put("runs", runsMap(runs));
            m.put("waits_on", waitsOnMap(primitive, primitiveClass, primitiveKind));
            m.put("edge", edge);
            m.put("via", via);
            m.put("to", to);
            m.put("to_pid", toPid);
            m.put("to_runs", runsMap(toRuns));
            m.put("text", text);
            return m;
        }

        private static Map<String, Object> runsMap(RunningWork r) {
            if (r == null) {
                return null;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workqueue", r.workqueue());
            m.put("work", r.work());
            m.put("rescuer", r.rescuer());
            return m;
        }
    }

    private final String kind;
    private final String reason;
    private final long virtualNanos;
    private final long steps;
    private final List<BlockedTask> blocked;
    private final List<String> runnable;
    private final List<List<String>> cycles;
    private final List<List<CycleLink>> cycleLinks;
    private final List<List<String>> chains;
    private final List<String> hungTasks;
    private final List<String> lockups;
    private final String workqueueDump;

    private HangReport(String kind, String reason, long virtualNanos, long steps, List<BlockedTask> blocked,
                       List<String> runnable, List<List<CycleLink>> cycleLinks,
                       List<List<String>> chains, List<String> hungTasks, List<String> lockups, String workqueueDump) {
        this.kind = kind;
        this.reason = reason;
        this.virtualNanos = virtualNanos;
        this.steps = steps;
        this.blocked = blocked;
        this.runnable = runnable;
        this.cycles = cycleLinks.stream().map(c -> c.stream().map(CycleLink::text).toList()).toList();
        this.cycleLinks = cycleLinks;
        this.chains = chains;
        this.hungTasks = hungTasks;
        this.lockups = lockups;
        this.workqueueDump = workqueueDump;
    }

    /** Builds the report of a stopped run; called under the simulator's inspection. */
    static HangReport of(String kind, String reason, long now, long steps, List<Task> tasks, ScenarioContext ctx) {
        SimPlatform sim = ctx.platform();
        List<BlockedTask> blocked = new ArrayList<>();
        List<String> runnable = new ArrayList<>();
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            SimPlatform.TaskView v = sim.view(t);
            if (t.state() == Task.State.BLOCKED && on != null) {
                if (on.isIdleWait()) {
                    continue;
                }
                List<String> holds = new ArrayList<>();
                for (Primitive p : t.heldPrimitives()) {
                    holds.add(p.describe());
                }
                boolean repeated = v.repeatedOn() == on;
                blocked.add(new BlockedTask(t.name(), t.id(), on.describe(), on.name(), on.lockClass(), on.kind(),
                        now - t.waitingSinceNanos(), v.timed() ? Math.max(0, v.deadline() - now) : -1,
                        repeated ? v.repeats() : 1, now - (repeated ? v.repeatedSinceNanos() : t.waitingSinceNanos()),
                        !v.asleep(), holds, Workqueues.describeWorker(t)));
            } else if (t.state() == Task.State.RUNNING) {
                runnable.add(describeRunnable(t, v, now));
            }
        }
        WaitForGraph g = new WaitForGraph(tasks, ctx::releasersOf, ctx::knownReleasersOf);
        List<List<CycleLink>> cycleLinks = new ArrayList<>();
        Set<Task> onCycles = new HashSet<>();
        for (List<WaitForGraph.Edge> c : g.cycles(MAX_CYCLES)) {
            List<CycleLink> links = new ArrayList<>();
            for (WaitForGraph.Edge e : c) {
                links.add(link(e));
                onCycles.add(e.from());
            }
            cycleLinks.add(List.copyOf(links));
        }
        List<List<String>> chains = new ArrayList<>();
        for (List<WaitForGraph.Edge> chain : g.chains(onCycles)) {
            List<String> c = new ArrayList<>();
            for (WaitForGraph.Edge e : chain) {
                c.add(e.text());
            }
            if (!c.isEmpty()) {
                chains.add(c);
            }
        }
        String dump = ctx.system() != null && ctx.system().hasWorkqueues() ? ctx.system().workqueues().dump() : null;
        return new HangReport(kind, reason, now, steps, blocked, runnable, cycleLinks, chains,
                List.copyOf(ctx.hungTaskReports()), List.copyOf(ctx.lockupReports()), dump);
    }

    /** What a task waits on, its keys in a fixed order ({@code Map.of}'s order changes from one JVM to the next). */
    private static Map<String, Object> waitsOnMap(String name, String lockClass, String kind) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("class", lockClass);
        m.put("kind", kind);
        return m;
    }

    /** A cycle's edge, structured; {@code e.to()} is a task (cycles run through tasks only). */
    private static CycleLink link(WaitForGraph.Edge e) {
        Primitive on = e.on();
        return new CycleLink(e.from().name(), e.from().id(), Workqueues.runningWork(e.from()), on.name(), on.lockClass(),
                on.kind(), e.kind().label(), e.via(), e.to().name(), e.to().id(), Workqueues.runningWork(e.to()), e.text());
    }

    /** A runnable task: whether it spins, its work item, and the waits it made in a row before running again. */
    private static String describeRunnable(Task t, SimPlatform.TaskView v, long now) {
        StringBuilder sb = new StringBuilder(t.toString());
        if (v.spinning()) {
            sb.append(" spinning in cpu_relax");
        }
        String work = Workqueues.describeWorker(t);
        if (work != null) {
            sb.append(" (").append(work).append(')');
        }
        if (v.repeatedOn() != null && v.repeats() > 1) {
            sb.append(", between waits: ").append(v.repeats()).append(" in a row on ").append(v.repeatedOn().describe())
                    .append(v.timed() ? " (timed)" : "").append(" over ").append(seconds(now - v.repeatedSinceNanos())).append(" s");
        }
        return sb.toString();
    }

    private static String seconds(long nanos) {
        return String.format("%.3f", nanos / 1e9);
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

    /** The distinct wait-for cycles as structured links, in the order and number of {@link #cycles()}. */
    public List<List<CycleLink>> cycleLinks() {
        return cycleLinks;
    }

    /** When the run stopped, in virtual time (nanoseconds since the run began). */
    public long virtualNanos() {
        return virtualNanos;
    }

    /** The hung-task detector's reports, oldest first. */
    public List<String> hungTasks() {
        return hungTasks;
    }

    /** The workqueue watchdog's lockup reports, oldest first. */
    public List<String> lockups() {
        return lockups;
    }

    /** The runnable tasks, one line each (spinning, work item, waits made in a row before running again). */
    public List<String> runnable() {
        return runnable;
    }

    /** The wait-for chains of the blocked tasks on no cycle: every path of edges from each. */
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
            e.put("waits_on", waitsOnMap(b.primitive(), b.primitiveClass(), b.kind()));
            e.put("blocked_ns", b.blockedNanos());
            e.put("timed", b.timed());
            e.put("times_out_in_ns", b.timed() ? b.timesOutInNanos() : null);
            e.put("waits_in_a_row", b.waitsInARow());
            e.put("waiting_in_all_ns", b.waitingInAllNanos());
            e.put("about_to_recheck", b.aboutToRecheck());
            e.put("holds", b.holds());
            e.put("workqueue", b.workqueue());
            bl.add(e);
        }
        m.put("blocked_tasks", bl);
        m.put("runnable_tasks", runnable);
        List<Map<String, Object>> cycleMaps = new ArrayList<>();
        for (List<CycleLink> c : cycleLinks) {
            cycleMaps.add(Map.of("links", c.stream().map(CycleLink::toMap).toList()));
        }
        m.put("wait_for_cycles", cycleMaps);
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
                    .append(seconds(b.blockedNanos())).append(" s of virtual time on ").append(b.waitsOn());
            if (b.timed() && b.timesOutInNanos() == 0) {
                sb.append("; timed out");
            } else if (b.timed()) {
                sb.append("; a timed wait, times out in ").append(seconds(b.timesOutInNanos())).append(" s");
            }
            if (b.aboutToRecheck()) {
                sb.append(b.timed() && b.timesOutInNanos() == 0 ? ", about to re-check" : "; woken, about to re-check");
            }
            if (b.waitsInARow() > 1) {
                sb.append("; wait ").append(b.waitsInARow()).append(" in a row on it, ")
                        .append(seconds(b.waitingInAllNanos())).append(" s in all");
            }
            sb.append('\n');
            if (b.workqueue() != null) {
                sb.append("    ").append(b.workqueue()).append('\n');
            }
            if (!b.holds().isEmpty()) {
                sb.append("    holding: ").append(String.join(", ", b.holds())).append('\n');
            }
        }
        if (!runnable.isEmpty()) {
            sb.append("Runnable tasks:\n");
            for (String r : runnable) {
                sb.append("  ").append(r).append('\n');
            }
        }
        if (!cycles.isEmpty()) {
            for (List<String> c : cycles) {
                sb.append(cycles.size() == 1 ? "\nWait-for cycle:\n" : "\nWait-for cycle " + (cycles.indexOf(c) + 1) + " of " + cycles.size() + ":\n");
                for (String e : c) {
                    sb.append("  ").append(e).append('\n');
                }
            }
        }
        if (!chains.isEmpty()) {
            sb.append(cycles.isEmpty() ? "\nWait-for chains (no cycle through tasks):\n" : "\nWait-for chains of the tasks on no cycle:\n");
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
            String first = lockups.get(0).stripTrailing();
            int eol = first.indexOf('\n');
            if (workqueueDump != null && eol > 0 && sameBusyQueues(first.substring(eol + 1), workqueueDump)) {
                sb.append(first.substring(0, eol).indent(2))
                        .append("  (its dump shows the same busy queues as the one below, taken when the run stopped)\n");
            } else {
                sb.append(first.indent(2));
            }
        }
        if (workqueueDump != null) {
            sb.append('\n').append(workqueueDump.stripTrailing()).append('\n');
        }
        return sb.toString();
    }

    /** Whether two workqueue dumps list the same items, ignoring how long each has been stuck. */
    private static boolean sameBusyQueues(String a, String b) {
        return durationless(a).equals(durationless(b));
    }

    private static String durationless(String dump) {
        return dump.replaceAll("\\d+s\\b", "Ns").lines().map(String::strip).collect(java.util.stream.Collectors.joining("\n"));
    }

    @Override
    public String toString() {
        return toText();
    }
}
