package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.md.S3MdMdmonTest;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The long runs behind docs/STORAGE.md's S3 table; skipped unless {@code -Ds3.measure=true}:
 * <pre>
 * mvn -B -q -pl storage -am verify -Dtest=S3Measurements -Ds3.measure=true -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 * For each delta in {@code -Ds3.delta} (a comma-separated list of page counts; default 0) the stack
 * file is run with every hog size in it (the entry's and the variants' {@code workload.hog.pages})
 * moved by that many pages: each hanging variant under PCT
 * over base seeds 1..20 (schedules to the first hang: median and maximum, and whether every first
 * hang's report has S3's shape, {@link S3MdMdmonStackTest#hasS3Shape}, and S3's wait-for cycle,
 * {@link S3MdMdmonTest#hasS3Cycle}), each completing
 * variant {@code -Ds3.schedules} schedules (default 5,000) under PCT and under random walk. Prints one
 * line per hog size and variant; a verdict that differs from the file's expectation is printed, not
 * asserted, since the point of the sweep is to find where memory alone decides.
 */
class S3Measurements {

    private static final Pattern HOG = Pattern.compile("(name: hog, pages: |workload\\.hog\\.pages: )(\\d+)");

    @Test
    void measure() throws IOException {
        assumeTrue(Boolean.getBoolean("s3.measure"), "long run: pass -Ds3.measure=true");
        String text = Files.readString(S3MdMdmonStackTest.STACK);
        Matcher m = HOG.matcher(text);
        if (!m.find()) {
            throw new AssertionError("no hog line in " + S3MdMdmonStackTest.STACK);
        }
        String deltas = System.getProperty("s3.delta", "0");
        int schedules = Integer.getInteger("s3.schedules", 5000);
        String only = System.getProperty("s3.variant", "");
        for (String d : deltas.split(",")) {
            int delta = Integer.parseInt(d.trim());
            String size = (delta > 0 ? "+" : "") + delta;
            String t = HOG.matcher(text).replaceAll(r -> r.group(1) + (Integer.parseInt(r.group(2)) + delta));
            StackScenario s3 = new StackScenario(StackFile.parse("s3-md-mdmon.yaml", "s3-md-mdmon", t, Kinds.builtIn()));
            Explorer explorer = new Explorer(List.of(s3));
            for (Variant v : s3.variants()) {
                if (!only.isEmpty() && !Arrays.asList(only.split(",")).contains(v.name())) {
                    continue;
                }
                if (v.expected() == Variant.Expectation.HANGS) {
                    List<Long> toHang = new ArrayList<>();
                    int s3shape = 0;
                    int s3cycle = 0;
                    String other = "";
                    for (long seed = 1; seed <= 20; seed++) {
                        ExploreResult r = explorer.explore(s3, v, ExploreOptions.defaults().withSeed(seed).withSchedules(100));
                        if (!r.result().equals("hang")) {
                            toHang.add(Long.MAX_VALUE);
                            other = r.result() + " in " + r.schedulesRun() + " schedules";
                            continue;
                        }
                        toHang.add(r.schedulesRun());
                        if (S3MdMdmonTest.hasS3Cycle(r.firstFinding().report(), v.name())) {
                            s3cycle++;
                        }
                        if (S3MdMdmonStackTest.hasS3Shape(r.firstFinding().report())) {
                            s3shape++;
                        } else if (other.isEmpty()) {
                            other = "first hang without the S3 shape:\n" + r.firstFinding().report().toText();
                        }
                    }
                    Collections.sort(toHang);
                    System.out.printf("S3 hog %3s %-34s PCT to first hang over 20 seeds: median %s, max %s; S3 shape in %d of 20, S3 cycle in %d of 20 %s%n",
                            size, v.name(), show(toHang.get(9)), show(toHang.get(19)), s3shape, s3cycle, other);
                } else {
                    for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
                        long t0 = System.nanoTime();
                        ExploreResult r = explorer.explore(s3, v, ExploreOptions.defaults().withStrategy(k).withSchedules(schedules));
                        System.out.printf("S3 hog %3s %-34s %s: %s after %d schedules, %.1f s%s%n", size, v.name(), k, r.result(),
                                r.schedulesRun(), (System.nanoTime() - t0) / 1e9,
                                r.firstFinding() == null ? "" : "\n" + r.firstFinding().report().toText());
                    }
                }
            }
        }
    }

    private static String show(long n) {
        return n == Long.MAX_VALUE ? "none" : Long.toString(n);
    }
}
