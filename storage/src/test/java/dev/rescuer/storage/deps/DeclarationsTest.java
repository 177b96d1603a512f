package dev.rescuer.storage.deps;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.dm.bufio.DmBufioClient;
import dev.rescuer.storage.dm.bufio.ShrinkerForm;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.loop.LoopDevice;
import dev.rescuer.storage.loop.LoopSettings;
import dev.rescuer.storage.loop.LoopWorkerMode;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.swap.SwapArea;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the pieces outside device-mapper targets declare to a {@link WaitGraph} (the targets and md
 * are covered by the analyzer's stack tests): loop, swap, dm-bufio's shrinker forms, writeback, the
 * journal and the superblock shrinker. Real threads; nothing runs but construction.
 */
class DeclarationsTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(512).backgroundReclaim(false).build();
    private final PageCache cache = new PageCache(sys.pages());
    private final Disk sda = new Disk(sys.platform(), "sda", 1 << 12, Duration.ZERO, 4);
    private final FsLayout layout = FsLayout.mkfs(1 << 12, 4, 4);
    private final FsLayout.FileEntry image = layout.addFile("image", 16, 16L * Bio.PAGE_SIZE);
    private final BdiWriteback wb = new BdiWriteback("sda", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
    private final JournalFs fs = JournalFs.mount(sda, layout, MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
    private final WaitGraph g = new WaitGraph();
    private LoopDevice loop;

    DeclarationsTest() {
        g.node("sda", WaitGraph.NodeKind.DEVICE);
    }

    @AfterEach
    void close() {
        if (loop != null) {
            loop.close();
        }
        sys.close();
    }

    private boolean waits(String from, String to) {
        return g.edges().stream().anyMatch(e -> e.from().equals(from) && e.to().equals(to) && e.kind() == WaitGraph.EdgeKind.WAITS);
    }

    @Test
    void writebackTheJournalAndTheSuperblockShrinkerAreOnReclaimsPath() {
        wb.declareWaits(g);
        fs.declareWaits(g);
        assertEquals(WaitGraph.NodeKind.RECLAIM, g.node(WaitGraph.VMSCAN).kind());
        assertTrue(waits(WaitGraph.VMSCAN, "writeback"), "reclaim waits on bdi_wq");
        assertTrue(waits("writeback", "sda"), "writeback writes the device");
        assertEquals(Set.of("MEM_RECLAIM", "UNBOUND", "FREEZABLE"), g.node("writeback").flags());
        assertTrue(g.node("writeback").memReclaim());
        assertEquals(WaitGraph.NodeKind.RECLAIM, g.node("shrinker:super/sda").kind());
        assertTrue(waits("shrinker:super/sda", "xfs-cil/sda"), "super_cache_scan forces the log: flush_work of the push");
        assertTrue(waits("xfs-cil/sda", "sda"), "the push writes the log");
    }

    @ParameterizedTest
    @EnumSource(LoopWorkerMode.class)
    void loopsWorkerSitsBetweenItsDeviceAndTheBackingDevice(LoopWorkerMode mode) {
        loop = new LoopDevice(sys, "loop0", fs, image, new LoopSettings(mode, false, false));
        g.node("loop0", WaitGraph.NodeKind.DEVICE);
        loop.declareWaits(g);
        String worker = mode == LoopWorkerMode.KTHREAD ? "loop0 kthread" : "wq loop0";
        assertTrue(waits("loop0", worker), mode + ": the command runs on the worker");
        assertTrue(waits(worker, "sda"), mode + ": the worker's file I/O goes to the backing device");
        assertTrue(g.edges().stream().anyMatch(e -> e.from().equals(worker) && e.to().equals("xfs-cil/sda")
                && e.kind() == WaitGraph.EdgeKind.FLUSHES), mode + ": lo_req_flush fsyncs the image, a flush_work of the backing push");
        assertTrue(waits(worker, "writeback"), mode + ": a buffered worker is held in balance_dirty_pages for the backing device's writeback");
        if (mode == LoopWorkerMode.KTHREAD) {
            assertEquals(WaitGraph.NodeKind.POINT, g.node(worker).kind());
        } else {
            assertEquals(WaitGraph.NodeKind.QUEUE, g.node(worker).kind());
            assertFalse(g.node(worker).memReclaim(), "upstream's loop queue has no rescuer");
        }
    }

    @Test
    void swapIsWrittenByPageReclaim() {
        new SwapArea(sda, false).declareWaits(g);
        assertTrue(waits(WaitGraph.VMSCAN, "sda"));
    }

    @Test
    void dmBufiosShrinkerWaitsOnTheDeviceOrOnItsQueue() {
        new DmBufioClient(sys, sda, 4096, 0, "c1", ShrinkerForm.GFP_FS_2014).declareWaits(g);
        assertTrue(waits("shrinker:dm-bufio c1", "sda"), "the 2014 form writes dirty buffers in reclaim");
        assertNull(g.node("dm_bufio_cache/c1"));
        new DmBufioClient(sys, sda, 4096, 0, "c2", ShrinkerForm.WORKQUEUE_2020).declareWaits(g);
        assertTrue(waits("shrinker:dm-bufio c2", "dm_bufio_cache/c2"), "the 2020 form only queues shrink_work");
        assertTrue(waits("dm_bufio_cache/c2", "sda"));
        assertTrue(g.node("dm_bufio_cache/c2").memReclaim());
        assertFalse(waits("shrinker:dm-bufio c2", "sda"));
    }
}
