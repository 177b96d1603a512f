package dev.rescuer.storage.runner;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The S6 table in docs/STORAGE.md: every stack file in {@code stacks/}, each variant with and without
 * merge-nofs-noio ({@link MergeMeasurement}). A measurement, not a test: it runs only with
 * {@code -Drescuer.measure=s6}, prints the table and asserts nothing; {@code -Ds6.schedules=N} sets
 * the runs per variant (default 100), {@code -Ds6.stacks=a.yaml,b.yaml} limits the files.
 *
 * <pre>mvn -B -q -pl storage -am verify -Dtest=S6Measurement -Dsurefire.failIfNoSpecifiedTests=false -Drescuer.measure=s6</pre>
 */
class S6Measurement {

    @Test
    void printTheTable() throws IOException {
        assumeTrue("s6".equals(System.getProperty("rescuer.measure")), "a measurement: -Drescuer.measure=s6");
        int schedules = Integer.getInteger("s6.schedules", 100);
        String only = System.getProperty("s6.stacks", "");
        List<Path> files = new ArrayList<>();
        try (Stream<Path> all = Files.list(Path.of("..", "stacks"))) {
            all.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> only.isEmpty() || List.of(only.split(",")).contains(p.getFileName().toString()))
                    .sorted().forEach(files::add);
        }
        List<MergeMeasurement.Row> rows = new ArrayList<>();
        for (Path f : files) {
            long t0 = System.nanoTime();
            rows.addAll(MergeMeasurement.measure(f, schedules));
            System.err.printf("S6: %s measured in %.1f s%n", f.getFileName(), (System.nanoTime() - t0) / 1e9);
        }
        System.out.println("S6, with and without merge-nofs-noio, up to " + schedules + " PCT schedules per variant:\n"
                + MergeMeasurement.table(rows));
    }
}
