package dev.rescuer.analyze;

import dev.rescuer.sim.explore.ExploreResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link Analyzer} found in one graph: the queues, which need a rescuer and why, the
 * violations, and (without a cycle) the least rescuer plan with the chain that proves it minimal.
 *
 * @param source where the graph came from (a file, a stack and variant)
 * @param queues every queue with its flags
 * @param needsRescuer the queues reclaim or I/O can wait on, each with a shortest path from such a root
 * @param noRescuerNeeded the queues nothing on a reclaim path waits on
 * @param memReclaimUnneeded the queues of {@code noRescuerNeeded} that have {@code WQ_MEM_RECLAIM} anyway
 * @param violations what breaks reclaim layering
 * @param longestChain queue names, bottom (waited on) to top; {@code null} with a cycle
 * @param kernelRescuers rescuer threads with one per {@code WQ_MEM_RECLAIM} queue, as upstream
 * @param domains the plan, bottom level first; {@code null} with a cycle
 */
public record Analysis(String source, List<QueueInfo> queues, List<Need> needsRescuer, List<String> noRescuerNeeded,
                       List<String> memReclaimUnneeded, List<Violation> violations, List<String> longestChain,
                       int kernelRescuers, List<List<String>> domains) {

    /** A queue as declared. */
    public record QueueInfo(String name, boolean memReclaim, List<String> flags, String domain) {
    }

    /** A queue that needs a rescuer, and the path from reclaim or I/O that says why. */
    public record Need(String queue, List<String> path) {
    }

    /** A layering violation: its kind, what it means, and the nodes involved (a path or a cycle). */
    public record Violation(String kind, String message, List<String> path) {
    }

    /** Whether a plan exists (the graph has no cycle). */
    public boolean hasPlan() {
        return domains != null;
    }

    /** The least number of rescuer threads: the longest chain's length; 0 with a cycle. */
    public int minRescuers() {
        return domains == null ? 0 : domains.size();
    }

    /** The name of the domain at level {@code i} (0 = bottom) of the plan. */
    public static String domainName(int i) {
        return "rescuer-" + (i + 1);
    }

    /** Queue name to domain name, for every rescued queue; empty without a plan. */
    public Map<String, String> assignment() {
        Map<String, String> m = new LinkedHashMap<>();
        if (domains != null) {
            for (int i = 0; i < domains.size(); i++) {
                for (String q : domains.get(i)) {
                    m.put(q, domainName(i));
                }
            }
        }
        return m;
    }

    /**
     * The JSON form: {@code json_version} ({@link ExploreResult#JSON_VERSION}), {@code source},
     * {@code queues}, {@code needs_rescuer}, {@code no_rescuer_needed}, {@code mem_reclaim_unneeded},
     * {@code violations}, {@code longest_chain}, {@code min_rescuers}, {@code kernel_rescuers},
     * {@code plan.domains} ({@code plan} is null without a plan).
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("json_version", ExploreResult.JSON_VERSION);
        m.put("source", source);
        List<Object> qs = new ArrayList<>();
        for (QueueInfo q : queues) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", q.name());
            o.put("flags", q.flags());
            o.put("mem_reclaim", q.memReclaim());
            o.put("rescuer_domain", q.domain());
            qs.add(o);
        }
        m.put("queues", qs);
        List<Object> needs = new ArrayList<>();
        for (Need nd : needsRescuer) {
            Map<String, Object> o = new LinkedHashMap<>(); // key order fixed: Map.of's changes from run to run
            o.put("queue", nd.queue());
            o.put("path", nd.path());
            needs.add(o);
        }
        m.put("needs_rescuer", needs);
        m.put("no_rescuer_needed", noRescuerNeeded);
        m.put("mem_reclaim_unneeded", memReclaimUnneeded);
        List<Object> vs = new ArrayList<>();
        for (Violation v : violations) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("kind", v.kind());
            o.put("message", v.message());
            o.put("path", v.path());
            vs.add(o);
        }
        m.put("violations", vs);
        m.put("longest_chain", longestChain);
        m.put("min_rescuers", minRescuers());
        m.put("kernel_rescuers", kernelRescuers);
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("domains", domains);
        m.put("plan", hasPlan() ? plan : null);
        return m;
    }

    /** The human report. */
    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append("analysis of ").append(source).append('\n');
        b.append(count(queues.size(), "queue")).append(", ").append(needsRescuer.size()).append(needsRescuer.size() == 1 ? " needs" : " need")
                .append(" a rescuer\n");
        for (Need nd : needsRescuer) {
            b.append("  needs rescuer: ").append(nd.queue()).append("   because ").append(String.join(" -> ", nd.path())).append('\n');
        }
        for (String q : noRescuerNeeded) {
            b.append("  no rescuer needed: ").append(q).append(memReclaimUnneeded.contains(q) ? " (its WQ_MEM_RECLAIM is unneeded)" : "").append('\n');
        }
        if (violations.isEmpty()) {
            b.append("violations: none\n");
        } else {
            b.append("violations: ").append(violations.size()).append('\n');
            for (Violation v : violations) {
                b.append("  ").append(v.kind()).append(": ").append(v.message()).append("\n      ").append(String.join(" -> ", v.path())).append('\n');
            }
        }
        if (!hasPlan()) {
            b.append("no rescuer plan: the graph has a cycle\n");
            return b.toString();
        }
        b.append("rescuers: ").append(minRescuers()).append(" with the plan, ").append(kernelRescuers)
                .append(" with one per queue (upstream)\n");
        b.append("longest chain (bottom to top, ").append(count(longestChain.size(), "queue")).append("; no plan can do with fewer domains): ")
                .append(String.join(" <- ", longestChain)).append('\n');
        for (int i = 0; i < domains.size(); i++) {
            b.append("  ").append(domainName(i)).append(": ").append(String.join(", ", domains.get(i))).append('\n');
        }
        return b.toString();
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * A stack-file variant (list items to go under {@code variants:}) that applies the plan through
     * {@code system.rescuer_domains}.
     */
    public String toVariantYaml(String name) {
        if (!hasPlan()) {
            throw new IllegalStateException("no plan to emit: " + source + " has a cycle");
        }
        StringBuilder b = new StringBuilder();
        b.append("  - name: ").append(name).append('\n');
        b.append("    description: \"the analyzer's plan: ").append(minRescuers()).append(" rescuer domains by height, longest chain ")
                .append(String.join(" <- ", longestChain)).append("\"\n");
        b.append("    expected: complete\n");
        b.append("    set:\n");
        b.append("      system.rescuer_domains: {");
        List<String> parts = new ArrayList<>();
        assignment().forEach((q, d) -> parts.add("\"" + q + "\": " + d));
        b.append(String.join(", ", parts)).append("}\n");
        return b.toString();
    }
}
