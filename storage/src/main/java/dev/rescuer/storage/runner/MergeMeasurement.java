package dev.rescuer.storage.runner;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.rescuer.core.mm.Reclaimer;
import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The S6 measurement (issue 9, item 4): for every variant of a stack file, with and without
 * {@code system.merge_nofs_noio}, the verdict and what reclaim did, from the counters every run
 * declares ({@link RunResult#counters}) and its virtual time; no wall clock. A variant whose
 * {@code set} already fixes {@code system.merge_nofs_noio} is measured as it is; every other variant
 * also gets a twin, {@code <variant>+merge}, whose {@code set} adds {@code system.merge_nofs_noio:
 * true}.
 *
 * <p>Each variant runs PCT schedules 0, 1, ... with the explorer's default seed and depth, as
 * {@code ./rescuer check} does, until the first hang or failure or {@code schedules} runs. Rates are
 * means over the completed runs of per-run rates: objects reclaimed (pages, for the page cache and
 * swap) per second of the run's virtual time, split by {@link Reclaimer}; pages swapped out per run
 * (how many of them by NOFS direct reclaim) and swapped back in; a run's virtual time; writer throughput, the pages every writer task wrote
 * over the virtual time from the first writer's start to the last one's end.
 */
public final class MergeMeasurement {

    /** The twin's suffix. */
    public static final String MERGE_SUFFIX = "+merge";

    /**
     * One measured variant.
     *
     * @param stack the stack's name
     * @param variant the variant (a twin ends in {@link #MERGE_SUFFIX})
     * @param merge whether {@code system.merge_nofs_noio} was on
     * @param schedulesRun runs made
     * @param firstFinding the 0-based schedule of the first hang or failure, or -1
     * @param findingOutcome that run's outcome, or {@code null}
     * @param completed runs that completed, over which the rates are taken
     * @param reclaimedPerSecond by reclaimer, objects per virtual second (mean over completed runs)
     * @param pagesSwapped pages swapped out per run (mean)
     * @param pagesSwappedByNofs of those, pages swapped by NOFS direct reclaim (mean)
     * @param pagesSwappedIn pages faulted back in from swap per run (mean)
     * @param writerPagesPerSecond writer throughput (mean), NaN without a writer
     * @param virtualMillis a run's virtual time (mean)
     */
    public record Row(String stack, String variant, boolean merge, long schedulesRun, long firstFinding, Outcome findingOutcome,
                      long completed, Map<Reclaimer, Double> reclaimedPerSecond, double pagesSwapped, double pagesSwappedByNofs,
                      double pagesSwappedIn, double writerPagesPerSecond, double virtualMillis) {

        /** Objects reclaimed per virtual second by every reclaimer. */
        public double totalReclaimedPerSecond() {
            return reclaimedPerSecond.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        /** {@code completes (N)}, {@code hangs (schedule K)} or {@code fails (schedule K)}, K 1-based. */
        public String verdict() {
            if (firstFinding < 0) {
                return "completes (" + schedulesRun + ")";
            }
            return (findingOutcome == Outcome.HANG ? "hangs" : "fails") + " (schedule " + (firstFinding + 1) + ")";
        }
    }

    private MergeMeasurement() {
    }

    /**
     * Measures every variant of the stack file at {@code path} and its merge twin, at most
     * {@code schedules} runs each.
     *
     * @throws dev.rescuer.storage.stack.StackFileException if the file is refused
     */
    public static List<Row> measure(Path path, int schedules) {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path, e);
        }
        String name = path.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        StackScenario s = new StackScenario(StackFile.parse(path.toString(), name, withMergeTwins(path, text), Kinds.builtIn()));
        Explorer explorer = new Explorer(List.of(s));
        ExploreOptions o = ExploreOptions.defaults();
        List<Row> rows = new ArrayList<>();
        try (CarrierPool pool = new CarrierPool("s6-measure")) {
            for (Variant v : s.variants()) {
                rows.add(measure(s, v, explorer, pool, o, schedules));
            }
        }
        return rows;
    }

    private static Row measure(StackScenario s, Variant v, Explorer explorer, CarrierPool pool, ExploreOptions o, int schedules) {
        Map<Reclaimer, Double> reclaimed = new EnumMap<>(Reclaimer.class);
        for (Reclaimer r : Reclaimer.values()) {
            reclaimed.put(r, 0.0);
        }
        double swapped = 0;
        double swappedByNofs = 0;
        double swappedIn = 0;
        double millis = 0;
        double writer = 0;
        int writerRuns = 0;
        long completed = 0;
        long finding = -1;
        Outcome findingOutcome = null;
        int run = 0;
        while (run < schedules) {
            RunSeed seed = RunSeed.forSchedule(s, v, StrategyKind.PCT, o.depth(), o.seed(), run);
            RunResult r = explorer.run(s, v, seed, run, pool, o.livelockBound());
            run++;
            if (r.outcome() != Outcome.COMPLETED) {
                finding = r.schedule();
                findingOutcome = r.outcome();
                break;
            }
            completed++;
            double seconds = r.virtualNanos() / 1e9;
            millis += r.virtualNanos() / 1e6;
            for (Reclaimer rc : Reclaimer.values()) {
                reclaimed.merge(rc, r.counter(StackScenario.RECLAIMED + rc.label(), 0) / seconds, Double::sum);
            }
            double w = writerPagesPerSecond(r);
            if (!Double.isNaN(w)) {
                writer += w;
                writerRuns++;
            }
            for (Map.Entry<String, Long> c : r.counters().entrySet()) {
                if (c.getKey().startsWith("swap ") && c.getKey().endsWith(" pages out")) {
                    swapped += c.getValue();
                } else if (c.getKey().startsWith("swap ") && c.getKey().endsWith(" pages out by " + Reclaimer.DIRECT_NOFS.label())) {
                    swappedByNofs += c.getValue();
                } else if (c.getKey().startsWith("swap ") && c.getKey().endsWith(" pages in")) {
                    swappedIn += c.getValue();
                }
            }
        }
        long n = Math.max(1, completed);
        reclaimed.replaceAll((k, x) -> x / n);
        return new Row(s.name(), v.name(), s.file().stack(v.name()).mergeNofsNoio(), run, finding, findingOutcome, completed,
                reclaimed, swapped / n, swappedByNofs / n, swappedIn / n, writerRuns == 0 ? Double.NaN : writer / writerRuns, millis / n);
    }

    /** Pages every writer wrote over the span from the first writer's start to the last one's end; NaN without writers. */
    static double writerPagesPerSecond(RunResult r) {
        long pages = 0;
        long start = Long.MAX_VALUE;
        long end = Long.MIN_VALUE;
        for (Map.Entry<String, Long> c : r.counters().entrySet()) {
            if (c.getKey().startsWith("pages_written ")) {
                String task = c.getKey().substring("pages_written ".length());
                long s = r.counter("writer_start_ns " + task, -1);
                if (s < 0) {
                    continue;
                }
                pages += c.getValue();
                start = Math.min(start, s);
                end = Math.max(end, r.counter("writer_end_ns " + task, s));
            }
        }
        if (start == Long.MAX_VALUE || end <= start) {
            return Double.NaN;
        }
        return pages / ((end - start) / 1e9);
    }

    /**
     * The stack file's text with a {@code +merge} twin of every variant that does not set
     * {@code system.merge_nofs_noio} itself.
     */
    static String withMergeTwins(Path path, String text) {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode root;
        try {
            root = yaml.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": not YAML: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode obj) || !(root.get("variants") instanceof ArrayNode variants)) {
            return text; // StackFile.parse reports what is wrong, at its line
        }
        ArrayNode out = yaml.createArrayNode();
        for (JsonNode v : variants) {
            out.add(v);
            if (v instanceof ObjectNode ov && ov.get("name") != null
                    && (ov.get("set") == null || ov.get("set") instanceof ObjectNode set && !set.has("system.merge_nofs_noio"))) {
                ObjectNode twin = ov.deepCopy();
                twin.put("name", ov.get("name").asText() + MERGE_SUFFIX);
                ObjectNode set = twin.get("set") instanceof ObjectNode so ? so : twin.putObject("set");
                set.put("system.merge_nofs_noio", true);
                out.add(twin);
            }
        }
        obj.set("variants", out);
        try {
            return yaml.writeValueAsString(obj);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The rows as the Markdown table of docs/STORAGE.md. */
    public static String table(List<Row> rows) {
        StringBuilder t = new StringBuilder("| stack | variant | merge | verdict | reclaimed/s | kswapd/s | direct fs/s | direct nofs/s"
                + " | direct noio/s | swapped out | by NOFS reclaim | swapped in | writer pages/s | run (ms) |\n"
                + "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            t.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", r.stack(), r.variant(),
                    r.merge() ? "on" : "off", r.verdict(),
                    num(r, r.totalReclaimedPerSecond()), num(r, r.reclaimedPerSecond().get(Reclaimer.KSWAPD)),
                    num(r, r.reclaimedPerSecond().get(Reclaimer.DIRECT_FS)), num(r, r.reclaimedPerSecond().get(Reclaimer.DIRECT_NOFS)),
                    num(r, r.reclaimedPerSecond().get(Reclaimer.DIRECT_NOIO)), num(r, r.pagesSwapped()), num(r, r.pagesSwappedByNofs()),
                    num(r, r.pagesSwappedIn()), num(r, r.writerPagesPerSecond()), num(r, r.virtualMillis())));
        }
        return t.toString();
    }

    private static String num(Row r, double x) {
        if (r.completed() == 0 || Double.isNaN(x)) {
            return "-";
        }
        return x == Math.rint(x) && Math.abs(x) < 1e9 ? Long.toString((long) x) : String.format(Locale.ROOT, "%.1f", x);
    }
}
