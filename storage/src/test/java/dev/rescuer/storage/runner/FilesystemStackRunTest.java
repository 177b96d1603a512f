package dev.rescuer.storage.runner;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A filesystem from a stack file runs: a writer that fsyncs on a read-write mount and a reader on a
 * read-only mount of a populated image, next to a hog; every schedule completes, the workloads'
 * invariants (all pages written or read, no failure) hold.
 */
class FilesystemStackRunTest {

    private static final String STACK = """
            name: fs-run
            system: {cpus: 2, memory: {pages: 1024}}
            devices:
              - {kind: disk, name: sda, sectors: 4096}
              - {kind: disk, name: sdb, sectors: 4096}
              - {kind: filesystem, name: data, device: sda, options: rw}
              - {kind: filesystem, name: image, device: sdb, options: ro, files: [{name: old, blocks: 16}]}
            workload:
              - {kind: file-writer, name: w, fs: data, file: new, pages: 32, fsync: true}
              - {kind: file-reader, name: r, fs: image, file: old, passes: 2, start_ms: 1}
              - {kind: memory-hog, name: hog, pages: 64, hold_ms: 5}
            variants:
              - {name: rw, expected: complete, set: {}}
            """;

    @Test
    void writerReaderAndHogCompleteInEverySchedule() {
        StackScenario s = new StackScenario(StackFile.parse("fs-run.yaml", "fs-run", STACK, Kinds.builtIn()));
        Explorer explorer = new Explorer(List.of(s));
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            ExploreResult r = explorer.explore(s, s.variants().get(0), ExploreOptions.defaults().withStrategy(k).withSchedules(20));
            assertEquals("ok", r.result(), () -> k + ": " + r.firstFinding().reason());
        }
    }
}
