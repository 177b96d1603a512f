package dev.rescuer.analyze;

import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./rescuer analyze} on every stack in {@code stacks/}, from what the code declares where it
 * creates its queues and takes its devices (dm targets, the page cache's writeback, the journal and
 * the superblock shrinker, md and mdmon, kernfs's notify queue): the queues needing a rescuer with
 * their evidence, the violations, the longest chain and the plan. And an md array with external
 * metadata under a filesystem, S3's system: mdmon on the reclaim path, the notify item on
 * {@code system_wq}, and with an allocating mdmon the cycle through reclaim.
 */
class StackAnalysisTest {

    static final Path STACKS = Path.of("..", "stacks");

    private static Analysis analyze(Path file, String variant) {
        return Analyzer.analyze(StackGraphs.declared(file, variant).graph(), file.toString());
    }

    private static Analysis analyze(String name, String text, String variant) {
        return Analyzer.analyze(StackGraphs.declared(StackFile.parse(name + ".yaml", name, text, Kinds.builtIn()), variant).graph(), name);
    }

    private static Map<String, List<String>> evidence(Analysis a) {
        Map<String, List<String>> m = new TreeMap<>();
        a.needsRescuer().forEach(n -> m.put(n.queue(), n.path()));
        return m;
    }

    private static List<String> kinds(Analysis a) {
        List<String> k = new ArrayList<>();
        a.violations().forEach(v -> k.add(v.kind()));
        return k;
    }

    /** The stacks whose declared graphs have no violation (an S3 stack, when it lands, has: mdmon). */
    static final List<String> CLEAN = List.of("crypt-mempool.yaml", "s1-cow-throttle.yaml", "s13-independent-stacks.yaml", "s2-loop-bufio.yaml",
            "s4a-snapshot-on-verity.yaml", "s4b-verity-readers.yaml", "s5-verity-bh.yaml");

    @Test
    void everyShippedStackIsAnalyzedWithEvidenceAndAPlanOrItsCycle() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(STACKS)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.stream().map(f -> f.getFileName().toString()).toList().containsAll(CLEAN), files.toString());
        for (Path f : files) {
            Analysis a = analyze(f, null);
            if (CLEAN.contains(f.getFileName().toString())) {
                assertTrue(a.violations().isEmpty(), f + ": " + a.violations());
            }
            assertEquals(a.hasPlan(), !kinds(a).contains("cycle"), f + ": a plan exactly when there is no cycle");
            assertFalse(a.needsRescuer().isEmpty(), f + ": every shipped stack has a queue on a reclaim or I/O path");
            if (a.hasPlan()) {
                assertEquals(a.longestChain().size(), a.minRescuers(), f + ": Mirsky");
            }
            for (Analysis.Need n : a.needsRescuer()) {
                assertEquals(n.queue(), n.path().get(n.path().size() - 1), f + ": the evidence ends at the queue");
            }
            for (Analysis.Violation v : a.violations()) {
                assertFalse(v.path().isEmpty(), f + ": " + v);
            }
        }
    }

    @Test
    void snapshotOnVerityUnderAFilesystemChainsWritebackThroughKcopydToKverityd() {
        Analysis a = analyze(STACKS.resolve("s4a-snapshot-on-verity.yaml"), null);
        assertEquals(Map.of(
                "kverityd/vroot", List.of("vroot", "kverityd/vroot"),
                "kcopyd/vsnap", List.of("vsnap", "kcopyd/vsnap"),
                "ksnaphd/vsnap", List.of("vsnap", "kcopyd/vsnap", "ksnaphd/vsnap"),
                "writeback", List.of("vmscan", "writeback"),
                "xfs-cil/vsnap", List.of("shrinker:super/vsnap", "xfs-cil/vsnap")), evidence(a));
        assertEquals(List.of("kverityd/vroot", "kcopyd/vsnap", "writeback"), a.longestChain());
        assertEquals(3, a.minRescuers());
        assertEquals(5, a.kernelRescuers());
        assertEquals(List.of(List.of("kverityd/vroot", "ksnaphd/vsnap"), List.of("kcopyd/vsnap"), List.of("writeback", "xfs-cil/vsnap")),
                a.domains());
    }

    @Test
    void aVerityUnderAReadOnlyFilesystemStillNeedsItsRescuer() {
        Analysis a = analyze(STACKS.resolve("s4b-verity-readers.yaml"), null);
        assertEquals(Map.of("kverityd/vroot", List.of("vroot", "kverityd/vroot")), evidence(a));
        assertTrue(a.memReclaimUnneeded().isEmpty());
        assertEquals(1, a.minRescuers());
    }

    @Test
    void s2sLoopKthreadIsAPointAndTheWorkqueueShrinkerFormNeedsItsQueuesRescuer() {
        Path s2 = STACKS.resolve("s2-loop-bufio.yaml");
        var g = StackGraphs.declared(s2, "kswapd-shrinker-workqueue").graph();
        assertEquals(dev.rescuer.storage.deps.WaitGraph.NodeKind.POINT, g.node("loop0 kthread").kind());
        Analysis a = Analyzer.analyze(g, s2.toString());
        assertEquals(List.of("shrinker:dm-bufio thin-metadata", "dm_bufio_cache/thin-metadata"), evidence(a).get("dm_bufio_cache/thin-metadata"));
        Analysis pre2014 = analyze(s2, "nofs-pre2014-shrinker");
        assertFalse(evidence(pre2014).containsKey("dm_bufio_cache/thin-metadata"), "the pre-2014 form writes in reclaim itself");
    }

    @Test
    void s3sStackFileShowsMdmonOnTheReclaimPathAndTheNotifyItemOnSystemWq() {
        Analysis a = analyze(STACKS.resolve("s3-md-mdmon.yaml"), "notify-system-wq");
        assertEquals(List.of("task-on-reclaim-path", "no-rescuer-on-reclaim-path", "task-on-reclaim-path"), kinds(a));
        assertEquals(List.of("md126", "sb_wait/md126", "mdmon/md126"), a.violations().get(0).path());
        assertEquals(List.of("md126", "sb_wait/md126", "mdmon/md126", "events"), a.violations().get(1).path());
        // events (system_wq) has no rescuer, so it is in no domain and not on the chain of rescued queues
        assertEquals(List.of("md", "writeback"), a.longestChain());
        assertFalse(a.domains().stream().anyMatch(d -> d.contains("events")), "a domain on a queue without a rescuer has no effect");
        assertEquals(3, a.kernelRescuers(), "md, writeback and xfs-cil/md126 have WQ_MEM_RECLAIM, events has not");
    }

    private static final String FS_ON_LOOP = """
            name: fs-on-loop
            system: {cpus: 2, memory: {pages: 4096, pages_per_thread: 4}}
            devices:
              - {kind: disk, name: sda, sectors: 8192, latency_ms: 1, queue_depth: 32}
              - kind: filesystem
                name: lower
                device: sda
                log_blocks: 8
                inodes: 8
                files: [{name: image, blocks: 128, allocated_blocks: 0}]
              - {kind: loop, name: loop0, backing: {fs: lower, file: image}, worker: kthread}
              - {kind: filesystem, name: upper, device: loop0, log_blocks: 8, inodes: 8}
            workload:
              - {kind: file-writer, name: app, fs: upper, file: f1, pages: 4, fsync: true}
            variants:
              - {name: buffered, expected: complete, set: {}}
              - {name: dio, expected: complete, set: {devices.loop0.direct_io: true}}
            """;

    @Test
    void aLoopWorkerFlushesTheBackingLogAndABufferedOneWaitsForItsWriteback() {
        var g = StackGraphs.declared(StackFile.parse("fs-on-loop.yaml", "fs-on-loop", FS_ON_LOOP, Kinds.builtIn()), "buffered").graph();
        assertTrue(g.edges().stream().anyMatch(e -> e.from().equals("loop0 kthread") && e.to().equals("xfs-cil/sda")
                && e.kind() == dev.rescuer.storage.deps.WaitGraph.EdgeKind.FLUSHES), "lo_req_flush -> vfs_fsync -> flush_work of the lower push");
        assertTrue(g.edges().stream().anyMatch(e -> e.from().equals("loop0 kthread") && e.to().equals("writeback")), "balance_dirty_pages");
        Analysis buffered = Analyzer.analyze(g, "fs-on-loop");
        assertEquals(List.of("cycle"), kinds(buffered));
        assertEquals(List.of("writeback", "loop0", "loop0 kthread", "writeback"), buffered.violations().get(0).path());
        // With direct I/O the worker dirties no page cache: the CIL queues are on one chain and never share.
        Analysis dio = analyze("fs-on-loop", FS_ON_LOOP, "dio");
        assertEquals(2, dio.minRescuers(), "xfs-cil/loop0 -> loop0 -> loop0 kthread -> xfs-cil/sda");
        assertEquals(List.of(List.of("xfs-cil/sda"), List.of("writeback", "xfs-cil/loop0")), dio.domains());
    }

    @Test
    void aLoopQueueWithoutMemReclaimIsNeitherCountedNorPlanned() {
        Analysis a = analyze("verity-on-loop-wq", """
                name: verity-on-loop-wq
                system: {cpus: 2, memory: {pages: 4096, pages_per_thread: 4}}
                devices:
                  - {kind: disk, name: sda, sectors: 8192, latency_ms: 1, queue_depth: 32}
                  - kind: filesystem
                    name: root
                    device: sda
                    log_blocks: 8
                    inodes: 8
                    files: [{name: data.img, blocks: 64}, {name: hash.img, blocks: 16}]
                  - {kind: loop, name: loop0, backing: {fs: root, file: data.img}, worker: workqueue, direct_io: true}
                  - {kind: loop, name: loop1, backing: {fs: root, file: hash.img}, worker: kthread, direct_io: true}
                  - {kind: veritysetup, name: vloop, data: loop0, hash: loop1, salt: 00000000000005a1}
                workload:
                  - {kind: reader, name: r0, device: vloop, start_sector: 0, sectors: 8, count: 2}
                variants:
                  - {name: base, expected: complete, set: {}}
                """, null);
        assertTrue(kinds(a).contains("no-rescuer-on-reclaim-path"));
        assertFalse(a.domains().stream().anyMatch(d -> d.contains("wq loop0")), "wq loop0 has no rescuer to share");
        assertEquals(a.queues().stream().filter(Analysis.QueueInfo::memReclaim).count(), a.kernelRescuers());
        assertEquals(3, a.kernelRescuers(), "writeback, xfs-cil/sda and kverityd/vloop; loop0's queue has none");
    }

    @Test
    void cryptsTwoQueuesWaitOnlyOnTheDiskSoTheyMayShare() {
        Analysis a = analyze(STACKS.resolve("crypt-mempool.yaml"), null);
        assertEquals(Map.of(
                "kcryptd/cryptroot", List.of("cryptroot", "kcryptd/cryptroot"),
                "kcryptd_io/cryptroot", List.of("cryptroot", "kcryptd_io/cryptroot")), evidence(a));
        assertEquals(List.of(List.of("kcryptd/cryptroot", "kcryptd_io/cryptroot")), a.domains());
    }

    static final String MD = """
            name: md
            modules:
              kernfs: {notify_wq: system_wq}
            devices:
              - {kind: disk, name: sda, sectors: 1024}
              - {kind: disk, name: sdb, sectors: 1024}
              - {kind: md-raid1, name: md0, members: [sda, sdb], metadata: external}
              - {kind: filesystem, name: data, device: md0, options: rw, log_blocks: 8, inodes: 8}
            workload:
              - {kind: mdmon, name: mdmon, memory: allocates, wakeup: fsnotify}
              - {kind: file-writer, name: writer, fs: data, file: f, pages: 4, fsync: true}
            variants:
              - {name: upstream, expected: complete, set: {modules.kernfs.notify_wq: system_wq}}
              - {name: kernfs-wq-mlocked, expected: complete, set: {modules.kernfs.notify_wq: kernfs_wq, workload.mdmon.memory: mlocked}}
              - {name: internal, expected: complete, set: {devices.md0.metadata: internal}}
            """;

    @Test
    void s3sMdmonAndItsNotifyItemOnSystemWqAreViolationsAndAnAllocatingMdmonClosesTheCycle() {
        Analysis a = analyze("md", MD, "upstream");
        assertEquals(List.of("cycle", "task-on-reclaim-path", "no-rescuer-on-reclaim-path"), kinds(a));
        assertEquals(List.of("md0", "sb_wait/md0", "mdmon/md0", "vmscan", "writeback", "md0"), a.violations().get(0).path());
        assertEquals(List.of("md0", "sb_wait/md0", "mdmon/md0"), a.violations().get(1).path());
        assertEquals(List.of("md0", "sb_wait/md0", "mdmon/md0", "events"), a.violations().get(2).path());
        assertFalse(a.hasPlan(), "no rescuer plan can break a cycle");
        assertNull(a.toMap().get("plan"));
    }

    @Test
    void withKernfsWqAndAnMlockedMdmonOnlyTheDaemonOnTheReclaimPathRemains() {
        Analysis a = analyze("md", MD, "kernfs-wq-mlocked");
        assertEquals(List.of("task-on-reclaim-path"), kinds(a));
        assertEquals(List.of("md0", "sb_wait/md0", "mdmon/md0", "kernfs"), evidence(a).get("kernfs"));
        assertEquals(List.of("md0", "md"), evidence(a).get("md"));
        assertEquals(List.of("kernfs", "md", "writeback"), a.longestChain());
        assertEquals(3, a.minRescuers());
    }

    @Test
    void withInKernelMetadataTheMdThreadWritesTheSuperblockAndNoDaemonIsOnThePath() {
        Analysis a = analyze("md", MD, "internal");
        assertTrue(a.violations().isEmpty(), a.violations().toString());
        assertEquals(List.of("md", "writeback"), a.longestChain());
        assertFalse(evidence(a).containsKey("events"), "no mdmon, so nothing waits on the notify item");
    }
}
