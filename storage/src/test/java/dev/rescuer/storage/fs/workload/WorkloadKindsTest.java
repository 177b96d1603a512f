package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.OpenFile;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Workloads build from settings with errors that name the field, run on the platform and report progress. */
class WorkloadKindsTest {

    private RescuerSystem sys;
    private WorkloadEnv env;

    @BeforeEach
    void boot() {
        sys = RescuerSystem.builder().name("ram").totalPages(1024).pagesPerThread(1)
                .workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
        PageCache cache = new PageCache(sys.pages());
        cache.registerShrinker();
        TestDisk rwDisk = new TestDisk("vdb", sys.platform(), 1 << 14, Duration.ZERO);
        TestDisk roDisk = new TestDisk("vdc", sys.platform(), 1 << 14, Duration.ZERO);
        BdiWriteback wb = new BdiWriteback("vdb", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
        JournalFs rw = JournalFs.mount(rwDisk, FsLayout.mkfs(1 << 14, 4, 8), MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
        FsLayout image = FsLayout.mkfs(1 << 14, 4, 8);
        image.addFile("ro-data", 8, 5 * Bio.PAGE_SIZE);
        JournalFs ro = JournalFs.mount(roDisk, image, MountOptions.READ_ONLY, cache, null, null);
        env = new WorkloadEnv(sys.pages(), Map.of("vdb", rw, "vdc", ro), null);
    }

    @AfterEach
    void close() {
        sys.close();
    }

    private void runToEnd(Workload... ws) {
        List<Task> tasks = new ArrayList<>();
        for (Workload w : ws) {
            w.start((name, body) -> tasks.add(sys.platform().startThread(name, body)));
        }
        for (Task t : tasks) {
            sys.platform().join(t);
        }
    }

    @Test
    void aWriterAndAReaderRunAndReportProgress() {
        Workload writer = WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", 12, "fsync", true), env);
        Workload reader = WorkloadKinds.build("reader", "r", Map.of("fs", "vdc", "file", "ro-data", "passes", 2), env);
        assertEquals(new WorkloadProgress(0, 12, false, null), writer.progress());
        runToEnd(writer, reader);
        assertEquals(new WorkloadProgress(12, 12, true, null), writer.progress());
        assertEquals(new WorkloadProgress(10, 10, true, null), reader.progress());
        assertEquals(12 * Bio.PAGE_SIZE, env.filesystems().get("vdb").sizeOnDisk("f"), "fsync made the size durable");
        assertThrows(IllegalStateException.class, () -> writer.start((n, b) -> { }));
    }

    /**
     * With memory at the min watermark and one page reclaimable per pass, the metadata writer's
     * allocations reclaim: its page-cache pages (GFP_NOFS) and its transactions' GFP_KERNEL pages
     * alike reclaim as NOFS, because the transaction's nofs scope masks __GFP_FS; nothing reclaims
     * with __GFP_FS. (With the transactions' allocation moved out of the handle, this test sees
     * direct/fs reclaim and fails.)
     */
    @Test
    void aMetadataWritersTransactionsAllocateUnderNofs() {
        sys.close();
        sys = RescuerSystem.builder().name("ram").totalPages(1024).watermarks(16, 20, 24).pagesPerThread(0)
                .backgroundReclaim(false).workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
        PageCache cache = new PageCache(sys.pages());
        TestDisk disk = new TestDisk("vdb", sys.platform(), 1 << 14, Duration.ZERO);
        BdiWriteback wb = new BdiWriteback("vdb", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
        JournalFs fs = JournalFs.mount(disk, FsLayout.mkfs(1 << 14, 4, 8), MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
        WorkloadEnv e = new WorkloadEnv(sys.pages(), Map.of("vdb", fs), null);
        java.util.ArrayDeque<dev.rescuer.core.mm.Pages> held = new java.util.ArrayDeque<>();
        var reg = sys.pages().registerShrinker(new dev.rescuer.core.mm.Shrinker() {
            @Override
            public String name() {
                return "one-at-a-time";
            }

            @Override
            public long count(dev.rescuer.core.mm.ShrinkControl sc) {
                synchronized (held) {
                    return Math.min(1, held.size());
                }
            }

            @Override
            public long scan(dev.rescuer.core.mm.ShrinkControl sc) {
                synchronized (held) {
                    if (held.isEmpty()) {
                        return 0;
                    }
                    held.poll().free();
                    return 1;
                }
            }
        });
        while (sys.pages().freePages() > sys.pages().minWatermark()) {
            held.add(sys.pages().allocate(1, dev.rescuer.core.mm.Gfp.NOWAIT));
        }
        Workload w = WorkloadKinds.build("metadata-writer", "m", Map.of("fs", "vdb", "file", "f", "pages", 8, "metadata_pages", 3), e);
        runToEnd(w);
        assertEquals(new WorkloadProgress(8, 8, true, null), w.progress());
        assertEquals(0, sys.pages().reclaimed(dev.rescuer.core.mm.Reclaimer.DIRECT_FS), "nothing reclaimed with __GFP_FS");
        assertTrue(sys.pages().reclaimed(dev.rescuer.core.mm.Reclaimer.DIRECT_NOFS) > 0, "the writer reclaimed, as NOFS");
        reg.close();
        held.forEach(dev.rescuer.core.mm.Pages::free);
        fs.unmount();
    }

    /**
     * {@code sync_file_range} puts the data on the disk and leaves the size change in the CIL: the
     * closed inode stays pinned (reclaiming it means forcing the log) and the size is not yet durable.
     */
    @Test
    void aWriterWithSyncFileRangeLeavesItsInodePinnedInTheLog() {
        JournalFs fs = env.filesystems().get("vdb");
        Workload writer = WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", 3, "sync_file_range", true), env);
        runToEnd(writer);
        assertEquals(new WorkloadProgress(3, 3, true, null), writer.progress());
        assertEquals(0, fs.sizeOnDisk("f"), "the size change is still in the CIL");
        assertEquals(1, fs.unusedInodes(), "the writer closed the file");
        try (OpenFile f = fs.open("f")) {
            assertTrue(f.inode().isPinned(), "the inode is pinned until the log is forced");
            assertFalse(f.inode().mapping().hasDirtyOrWriteback(), "the data was written and waited for");
            assertEquals(BlkStatus.OK, f.fsync());
            assertFalse(f.inode().isPinned(), "fsync forced the log");
        }
        assertEquals(3 * Bio.PAGE_SIZE, fs.sizeOnDisk("f"));
    }

    @Test
    void aMemoryHogAllocatesHoldsAndFreesEverything() {
        long free = sys.pages().freePages();
        Workload hog = WorkloadKinds.build("memory-hog", "hog", Map.of("pages", 100), env);
        runToEnd(hog);
        assertEquals(new WorkloadProgress(100, 100, true, null), hog.progress());
        assertEquals(free, sys.pages().freePages(), "every page the hog (and its thread) took came back");
    }

    @Test
    void aMemoryHogWithLeaveFreeSizesItselfToLeaveThatManyPagesFree() {
        long free = sys.pages().freePages();
        java.util.concurrent.atomic.AtomicLong freeWhenSized = new java.util.concurrent.atomic.AtomicLong(-1);
        WorkloadEnv watching = new WorkloadEnv(sys.pages(), env.filesystems(), () -> freeWhenSized.set(sys.pages().freePages()));
        Workload hog = WorkloadKinds.build("memory-hog", "hog", Map.of("leave_free", 300), watching);
        runToEnd(hog);
        assertEquals(300, freeWhenSized.get(), "the hog reports its one unit once it holds all but 300 free pages");
        assertEquals(new WorkloadProgress(1, 1, true, null), hog.progress());
        assertEquals(free, sys.pages().freePages(), "every page the hog (and its thread) took came back");
    }

    @Test
    void badSettingsAreRefusedNamingTheField() {
        assertMessage("workload 'x': field 'kind': unknown workload kind 'juggler'; known kinds: memory-hog, metadata-writer, reader, writer",
                () -> WorkloadKinds.build("juggler", "x", Map.of(), env));
        assertMessage("workload 'w' (writer): field 'pages': is required",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f"), env));
        assertMessage("workload 'w' (writer): field 'pages': expected an integer >= 1, got \"many\"",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", "many"), env));
        assertMessage("workload 'w' (writer): field 'fsnyc': unknown field; known fields: fs, file, pages, blocks, sync_file_range, fsync",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", 1, "fsnyc", true), env));
        assertMessage("workload 'w' (writer): field 'sync_file_range': expected true or false, got \"yes\"",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", 1, "sync_file_range", "yes"), env));
        assertMessage("workload 'w' (writer): field 'fs': no filesystem 'sda' is mounted; mounted: vdb, vdc",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "sda", "file", "f", "pages", 1), env));
        assertMessage("workload 'w' (writer): field 'fs': filesystem 'vdc' is mounted read-only",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdc", "file", "f", "pages", 1), env));
        assertMessage("workload 'w' (writer): field 'blocks': a file of 2 blocks cannot hold 3 pages",
                () -> WorkloadKinds.build("writer", "w", Map.of("fs", "vdb", "file", "f", "pages", 3, "blocks", 2), env));
        assertMessage("workload 'r' (reader): field 'file': no file 'nope' on vdc",
                () -> WorkloadKinds.build("reader", "r", Map.of("fs", "vdc", "file", "nope"), env));
        assertMessage("workload 'h' (memory-hog): field 'pages': 5000 pages is not less than all of memory (1024 pages)",
                () -> WorkloadKinds.build("memory-hog", "h", Map.of("pages", 5000), env));
        assertMessage("workload 'h' (memory-hog): field 'hold_ms': expected an integer >= 0, got -1",
                () -> WorkloadKinds.build("memory-hog", "h", Map.of("pages", 1, "hold_ms", -1), env));
        assertMessage("workload 'h' (memory-hog): field 'leave_free': give either pages or leave_free, not both",
                () -> WorkloadKinds.build("memory-hog", "h", Map.of("pages", 1, "leave_free", 10), env));
        assertMessage("workload 'h' (memory-hog): field 'pages': is required (or leave_free)",
                () -> WorkloadKinds.build("memory-hog", "h", Map.of("hold_ms", 1), env));
        assertMessage("workload 'h' (memory-hog): field 'leave_free': 1024 pages is not less than all of memory (1024 pages)",
                () -> WorkloadKinds.build("memory-hog", "h", Map.of("leave_free", 1024), env));
        assertMessage("workload 'm' (metadata-writer): field 'metadata_pages': 5000 pages per transaction is not less than all of memory (1024 pages)",
                () -> WorkloadKinds.build("metadata-writer", "m", Map.of("fs", "vdb", "file", "f", "pages", 1, "metadata_pages", 5000), env));
        assertMessage("workload 'm' (metadata-writer): field 'fs': filesystem 'vdc' is mounted read-only",
                () -> WorkloadKinds.build("metadata-writer", "m", Map.of("fs", "vdc", "file", "f", "pages", 1), env));
        assertEquals(List.of("memory-hog", "metadata-writer", "reader", "writer"), WorkloadKinds.names());
    }

    private static void assertMessage(String expected, Runnable r) {
        WorkloadConfigException e = assertThrows(WorkloadConfigException.class, r::run);
        assertEquals(expected, e.getMessage());
    }
}
