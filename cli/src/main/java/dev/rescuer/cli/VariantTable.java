package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ValidationResult;
import dev.rescuer.sim.explore.Variant;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code demo} and {@code check} share: explore a list of (scenario, variant) pairs, print the
 * table (scenario, variant, expected, schedules, result, first-hang seed, time) and the first hang's
 * report, or the JSON list, and say whether every variant behaved as expected.
 */
final class VariantTable {

    /** One row to run: the scenario, how the CLI names it (a name or a stack file's path), a variant, its options. */
    record Row(Scenario scenario, String cliName, Variant variant, ExploreOptions options) {
    }

    private VariantTable() {
    }

    /**
     * Runs every row in order and prints the result to {@code out}.
     *
     * @return whether every variant behaved as expected
     */
    static boolean run(PrintStream out, List<Row> rows, boolean json, CliMonitor monitor) throws Exception {
        return run(out, rows, json, false, monitor);
    }

    /**
     * Like {@link #run(PrintStream, List, boolean)}; with {@code validate}, each variant's schedules
     * also run under the validator ({@link Explorer#validate}), the table is followed by every
     * potential cycle found in completed schedules, and each JSON object gains
     * {@code validated_schedules} and {@code potential_cycles}. A cycle does not change whether a
     * variant behaved as expected; it is reported. {@code monitor} shows progress and, after a signal,
     * stops: the variants not yet explored are left out, the one being explored counts what finished,
     * and what was found so far is printed.
     */
    static boolean run(PrintStream out, List<Row> rows, boolean json, boolean validate, CliMonitor monitor) throws Exception {
        return run(out, rows, json, validate, monitor, null);
    }

    /**
     * Like {@link #run(PrintStream, List, boolean, boolean, CliMonitor)}; with a {@code page}, also
     * adds the table and a section for every variant's first hang to it.
     */
    static boolean run(PrintStream out, List<Row> rows, boolean json, boolean validate, CliMonitor monitor, HtmlReport page)
            throws Exception {
        List<ExploreResult> results = new ArrayList<>();
        List<ValidationResult> validations = new ArrayList<>();
        List<Boolean> asExpected = new ArrayList<>();
        // Columns as wide as the longest scenario and variant name, so long stack names stay aligned.
        int sw = "scenario".length();
        int vw = "variant".length();
        for (Row row : rows) {
            sw = Math.max(sw, row.scenario().name().length());
            vw = Math.max(vw, row.variant().name().length());
        }
        String names = "%-" + sw + "s %-" + vw + "s ";
        if (!json) {
            out.printf(names + "%-9s %9s  %-6s %-20s %7s%n", "scenario", "variant", "expected", "schedules",
                    "result", "first-hang seed", "time");
        }
        for (Row row : rows) {
            if (monitor.stopRequested()) {
                break;
            }
            Scenario s = row.scenario();
            Variant v = row.variant();
            boolean hangs = v.expected() == Variant.Expectation.HANGS;
            Explorer explorer = new Explorer(SimOptions.catalogue(s));
            monitor.begin(s.name() + " --variant " + v.name());
            ExploreResult r = explorer.explore(s, v, row.options(), monitor);
            monitor.end();
            results.add(r);
            validations.add(validate && !monitor.stopRequested() ? explorer.validate(s, v, row.options().runningAll()) : null);
            boolean ok = hangs ? "hang".equals(r.result()) : "ok".equals(r.result()) && !r.stopped();
            asExpected.add(ok);
            if (!json) {
                out.printf(names + "%-9s %9d  %-6s %-20s %6.1fs%s%n", s.name(), v.name(),
                        hangs ? "hang" : "complete", r.schedulesRun(), r.stopped() && r.firstFinding() == null ? "stopped" : r.result(),
                        r.firstFinding() == null ? "-" : r.firstFinding().seed().toString(), r.elapsedNanos() / 1e9,
                        ok ? "" : "   <- NOT AS EXPECTED");
            }
        }
        if (page != null) {
            addTo(page, rows, results, asExpected);
        }
        if (json) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                Map<String, Object> m = new LinkedHashMap<>(results.get(i).toMap());
                Map<String, Object> withExpected = new LinkedHashMap<>();
                withExpected.put("json_version", m.remove("json_version"));
                withExpected.put("scenario", m.remove("scenario"));
                withExpected.put("variant", m.remove("variant"));
                withExpected.put("expected", rows.get(i).variant().expected() == Variant.Expectation.HANGS ? "hang" : "complete");
                withExpected.put("as_expected", asExpected.get(i));
                withExpected.putAll(m);
                if (validations.get(i) != null) {
                    withExpected.putAll(validations.get(i).toMap());
                }
                list.add(withExpected);
            }
            out.println(SimOptions.json().writeValueAsString(list));
        } else {
            long passed = asExpected.stream().filter(b -> b).count();
            if (monitor.signalled()) {
                out.printf("%nstopped by a signal: %d of %d variants explored (the last one partly).%n", results.size(), rows.size());
            }
            out.printf("%n%d of %d variants behaved as expected.%n", passed, asExpected.size());
            for (ValidationResult vr : validations) {
                if (vr != null) {
                    out.printf("%n%s --variant %s:", vr.scenario(), vr.variant());
                    ExploreCommand.printValidation(out, vr);
                }
            }
            for (int i = 0; i < results.size(); i++) {
                ExploreResult r = results.get(i);
                if (r.firstFinding() != null && r.firstFinding().report() != null) {
                    String target = rows.get(i).cliName();
                    out.printf("%nThe first hang: %s --variant %s, schedule %d (replay: ./rescuer replay %s --variant %s --seed %s)%n%n",
                            r.scenario(), r.variant(), r.firstFinding().schedule(), target, r.variant(), r.firstFinding().seed());
                    out.println(r.firstFinding().report().toText());
                    break;
                }
            }
        }
        return !asExpected.contains(false) && results.size() == rows.size();
    }

    /** The table and each first hang's section, for the HTML page. */
    private static void addTo(HtmlReport page, List<Row> rows, List<ExploreResult> results, List<Boolean> asExpected) {
        List<List<String>> cells = new ArrayList<>();
        List<Boolean> unexpected = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            ExploreResult r = results.get(i);
            cells.add(List.of(r.scenario(), r.variant(),
                    rows.get(i).variant().expected() == Variant.Expectation.HANGS ? "hang" : "complete",
                    Long.toString(r.schedulesRun()), r.result(), asExpected.get(i) ? "yes" : "NO",
                    r.firstFinding() == null ? "-" : r.firstFinding().seed().toString(),
                    String.format(java.util.Locale.ROOT, "%.1fs", r.elapsedNanos() / 1e9)));
            unexpected.add(!asExpected.get(i));
        }
        page.table(List.of("scenario", "variant", "expected", "schedules", "result", "as expected", "first-hang seed",
                "wall-clock time"), cells, unexpected);
        for (int i = 0; i < results.size(); i++) {
            ExploreResult r = results.get(i);
            if (r.firstFinding() != null) {
                page.hang(r.scenario() + " --variant " + r.variant() + ": the first " + r.result() + ", schedule "
                        + r.firstFinding().schedule(), replayCommand(rows.get(i).cliName(), r), r.firstFinding());
            }
        }
    }

    /** The command that replays {@code r}'s first hang. */
    static String replayCommand(String cliName, ExploreResult r) {
        return "./rescuer replay " + cliName + " --variant " + r.variant() + " --seed " + r.firstFinding().seed();
    }
}
