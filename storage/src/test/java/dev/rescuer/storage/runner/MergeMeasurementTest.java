package dev.rescuer.storage.runner;

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
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counters stack kinds declare, on small deterministic runs, and the measurement's merge twins. */
class MergeMeasurementTest {

    private static final String SMALL = """
            name: small
            system: {cpus: 1, memory: {pages: 512, pages_per_thread: 4}}
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: disk, name: sdb, sectors: 1024}
              - {kind: swap, name: swap0, device: sdb}
              - {kind: filesystem, name: data, device: sda}
            workload:
              - {kind: writer, name: w, device: sdb, start_sector: 512, sectors: 16, count: 3, start_ms: 2}
              - {kind: metadata-writer, name: j, fs: data, file: f, pages: 5}
              - {kind: anon-memory, name: app, pages: 20, passes: 1}
            variants:
              - {name: plain, expected: complete}
              - {name: merged, expected: complete, set: {system.merge_nofs_noio: true}}
            """;

    private static RunResult runOnce(StackScenario s, Variant v) {
        try (CarrierPool pool = new CarrierPool("counters")) {
            RunResult r = new Explorer(List.of(s)).run(s, v, RunSeed.forSchedule(s, v, StrategyKind.PCT, 3, 1, 0), 0, pool,
                    ExploreOptions.DEFAULT_LIVELOCK_BOUND);
            assertEquals(Outcome.COMPLETED, r.outcome(), r::reason);
            return r;
        }
    }

    /** With memory to spare nothing is reclaimed or swapped, and the writers' pages are exactly what they wrote. */
    @Test
    void countersOfASmallRunAreExact() {
        StackScenario s = new StackScenario(StackFile.parse("small.yaml", "small", SMALL, Kinds.builtIn()));
        RunResult r = runOnce(s, s.variant("plain"));
        assertEquals(3 * 16 / 8, r.counter("pages_written w", -1), "3 writes of 16 sectors are 6 pages");
        assertEquals(5, r.counter("pages_written j", -1));
        assertTrue(r.counter("writer_start_ns w", -1) >= 2_000_000, "w starts after start_ms 2");
        assertTrue(r.counter("writer_end_ns w", -1) > r.counter("writer_start_ns w", -1));
        for (String c : List.of("reclaimed kswapd", "reclaimed direct/fs", "reclaimed direct/nofs", "reclaimed direct/noio",
                "swap swap0 pages out", "swap swap0 pages in", "swapped_in app")) {
            assertEquals(0, r.counter(c, -1), c + " with memory to spare: " + r.counters());
        }
        assertEquals(-1, r.counter("pages_written app", -1), "anonymous memory is not a writer");
        double rate = MergeMeasurement.writerPagesPerSecond(r);
        long span = Math.max(r.counter("writer_end_ns w", 0), r.counter("writer_end_ns j", 0))
                - Math.min(r.counter("writer_start_ns w", 0), r.counter("writer_start_ns j", 0));
        assertEquals(11 / (span / 1e9), rate, 1e-6, "11 pages over the writers' span");
    }

    @Test
    void everyVariantWithoutItsOwnMergeSettingGetsATwin() {
        String twinned = MergeMeasurement.withMergeTwins(Path.of("small.yaml"), SMALL);
        StackScenario s = new StackScenario(StackFile.parse("small.yaml", "small", twinned, Kinds.builtIn()));
        assertEquals(List.of("plain", "plain+merge", "merged"), s.variants().stream().map(Variant::name).toList());
        assertEquals(false, s.file().stack("plain").mergeNofsNoio());
        assertEquals(true, s.file().stack("plain+merge").mergeNofsNoio());
        assertEquals(s.file().stack("plain").spec().devices(), s.file().stack("plain+merge").spec().devices());
    }
}
