package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The S5 latency table in docs/STORAGE.md: read latency in the simulator's virtual time with
 * verification in BH ({@code try_verify_in_tasklet}) against {@code kverityd}, for reads whose hash
 * blocks are cached and for reads that must read them. A measurement, not a test: it runs only with
 * {@code -Drescuer.measure=s5} and prints the table; it asserts only that every schedule completed.
 *
 * <pre>mvn -B -q -pl storage -am verify -Dtest=S5LatencyMeasurement -Dsurefire.failIfNoSpecifiedTests=false -Drescuer.measure=s5</pre>
 */
class S5LatencyMeasurement {

    /**
     * S5's devices; {@code cold} reads one block in each of the 8 level-0 hash blocks (every read
     * misses the hash cache), then {@code warm} reads the same blocks again (every read hits it).
     */
    private static final String STACK = """
            name: s5-latency
            system: {cpus: 2, memory: {pages: 4096, pages_per_thread: 4}}
            devices:
              - {kind: disk, name: sda, sectors: 512, latency_ms: 1, queue_depth: 32}
              - {kind: disk, name: sdb, sectors: 128, latency_ms: 1, queue_depth: 32}
              - {kind: veritysetup, name: vroot, data: sda, hash: sdb, salt: 00000000000005a1, options: [try_verify_in_tasklet]}
            workload:
              - {kind: reader, name: cold, device: vroot, start_sector: 0, sectors: 8, count: 8, stride: 64, in_flight: 1}
              - {kind: reader, name: warm, device: vroot, start_sector: 0, sectors: 8, count: 8, stride: 64, in_flight: 1, start_ms: 100}
            explore: {estimated_steps: 2000, timer_jitter_ms: 1}
            variants:
              - {name: bh, expected: complete, set: {devices.vroot.options: [try_verify_in_tasklet]}}
              - {name: workqueue, expected: complete, set: {devices.vroot.options: []}}
            """;

    @Test
    void printTheTable() {
        Assumptions.assumeTrue("s5".equals(System.getProperty("rescuer.measure")), "a measurement: -Drescuer.measure=s5");
        StackScenario s = new StackScenario(StackFile.parse("s5-latency.yaml", "s5-latency", STACK, Kinds.builtIn()));
        Explorer explorer = new Explorer(List.of(s));
        int schedules = 200;
        StringBuilder table = new StringBuilder("| verification | hash blocks | reads | median (ms) | p99 (ms) |\n|---|---|---|---|---|\n");
        for (var v : s.variants()) {
            ExploreResult r = explorer.explore(s, v, ExploreOptions.defaults().withSchedules(schedules));
            assertEquals("ok", r.result());
            for (String[] series : new String[][] {{"cold", "not cached"}, {"warm", "cached"}}) {
                List<Long> ns = new ArrayList<>(s.samples(v.name(), series[0] + " latency_ns"));
                ns.sort(null);
                table.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.3f |%n",
                        v.name().equals("bh") ? "BH (`try_verify_in_tasklet`)" : "`kverityd`", series[1], ns.size(),
                        ns.get(ns.size() / 2) / 1e6, ns.get((int) Math.min(ns.size() - 1, Math.ceil(ns.size() * 0.99) - 1)) / 1e6));
            }
        }
        System.out.println("S5 read latency, virtual time, " + schedules + " PCT schedules per variant:\n" + table);
    }
}
