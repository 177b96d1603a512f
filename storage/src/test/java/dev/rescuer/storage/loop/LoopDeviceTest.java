package dev.rescuer.storage.loop;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.OpenFile;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.ReclaimRecorder;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import dev.rescuer.storage.block.BlkFlush;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop device's request path and its allocation scope, on real threads. */
class LoopDeviceTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(512).backgroundReclaim(false).build();
    private final PageCache cache = new PageCache(sys.pages());
    private final Disk sda = new Disk(sys.platform(), "sda", 1 << 12, Duration.ZERO, 4);
    private final FsLayout layout = FsLayout.mkfs(1 << 12, 4, 4);
    private final FsLayout.FileEntry image = layout.addFile("image", 16, 16L * Bio.PAGE_SIZE);
    private final FsLayout.FileEntry other = layout.addFile("other", 16, 16L * Bio.PAGE_SIZE);
    private final JournalFs fs = JournalFs.mount(sda, layout, MountOptions.READ_WRITE, cache, sys.workqueues(),
            new BdiWriteback("sda", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache)));
    /** Effective contexts of the allocations loop0's worker made, recorded by a fault injector that never fails. */
    private final List<Gfp> workerAllocations = new CopyOnWriteArrayList<>();
    private LoopDevice loop;
    private long pagesWritten;

    private LoopDevice loop(LoopWorkerMode mode, boolean noio, boolean directIo) {
        loop = new LoopDevice(sys, "loop0", fs, image, new LoopSettings(mode, noio, directIo));
        sys.pages().setFaultInjector((n, eff, task) -> {
            if (task.name().startsWith("loop0") || task.name().startsWith("kworker")) {
                workerAllocations.add(eff);
            }
            return false;
        });
        return loop;
    }

    @AfterEach
    void close() {
        if (loop != null) {
            loop.close();
        }
        sys.close();
    }

    private BlkStatus write(LoopDevice dev, long block, long value) {
        return write(dev, block, value, 0);
    }

    private BlkStatus write(LoopDevice dev, long block, long value, int flags) {
        Bio bio = new Bio(BioOp.WRITE, flags, dev, block * FsLayout.BLOCK_SECTORS, Bio.PAGE_SIZE, null, null, "test");
        long[] data = new long[FsLayout.BLOCK_SECTORS];
        java.util.Arrays.fill(data, value);
        bio.setData(data, 0);
        return BlockLayer.submitBioWait(bio);
    }

    @ParameterizedTest
    @EnumSource(LoopWorkerMode.class)
    void directIoLandsOnTheBackingFilesBlocks(LoopWorkerMode mode) {
        LoopDevice dev = loop(mode, false, true);
        assertEquals(BlkStatus.OK, write(dev, 3, 42));
        long sector = (image.startBlock() + 3) * FsLayout.BLOCK_SECTORS;
        assertEquals(42, sda.contentAt(sector));
        assertEquals(42, sda.contentAt(sector + FsLayout.BLOCK_SECTORS - 1));
        Bio read = new Bio(BioOp.READ, 0, dev, 3L * FsLayout.BLOCK_SECTORS, Bio.PAGE_SIZE, null, null, "test");
        long[] back = new long[FsLayout.BLOCK_SECTORS];
        read.setData(back, 0);
        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(read));
        assertEquals(42, back[0]);
    }

    @ParameterizedTest(name = "{0}, PF_MEMALLOC_NOIO {1}: the dio is allocated in {2}")
    @CsvSource({"KTHREAD, false, GFP_KERNEL", "KTHREAD, true, GFP_NOIO", "WORKQUEUE, false, GFP_KERNEL", "WORKQUEUE, true, GFP_NOIO"})
    void theWorkersScopeMasksTheDioAllocation(LoopWorkerMode mode, boolean noio, String expected) {
        LoopDevice dev = loop(mode, noio, true);
        assertEquals(BlkStatus.OK, write(dev, 0, 1));
        assertEquals(List.of(expected), workerAllocations.stream().map(Gfp::toString).distinct().toList());
    }

    @ParameterizedTest
    @EnumSource(LoopWorkerMode.class)
    void bufferedWritesGoThroughTheBackingFilesPageCache(LoopWorkerMode mode) {
        LoopDevice dev = loop(mode, true, false);
        assertEquals(BlkStatus.OK, write(dev, 2, 5));
        try (OpenFile f = fs.open("image")) {
            assertEquals(1, f.inode().mapping().nrDirty(), "the loop write dirtied one page of the image");
        }
        assertEquals(0, sda.contentAt((image.startBlock() + 2) * FsLayout.BLOCK_SECTORS), "nothing reached the disk yet");
    }

    @ParameterizedTest
    @EnumSource(LoopWorkerMode.class)
    void aFuaWriteEndsOnlyAfterAPostFlushHasFsyncedTheImage(LoopWorkerMode mode) {
        LoopDevice dev = loop(mode, true, false);
        // loop has a write cache without FUA: PREFLUSH | FUA is a flush, the data, and a flush (blk-flush.c),
        // and each flush is lo_req_flush, an fsync of the image, which writes its dirty pages and waits
        assertEquals(BlkStatus.OK, write(dev, 2, 5, Bio.REQ_PREFLUSH | Bio.REQ_FUA));
        try (OpenFile f = fs.open("image")) {
            assertEquals(0, f.inode().mapping().nrDirty(), "the post-flush wrote the page the data dirtied");
            assertFalse(f.inode().mapping().hasDirtyOrWriteback(), "and waited for it");
        }
        assertEquals(BlkStatus.OK, write(dev, 3, 6, Bio.REQ_PREFLUSH));
        try (OpenFile f = fs.open("image")) {
            assertEquals(1, f.inode().mapping().nrDirty(), "a preflush comes before the data: the page stays dirty");
        }
    }

    @org.junit.jupiter.api.Test
    void theFlushPolicyOfADeviceWithAWriteCacheAndNoFua() {
        LoopDevice dev = loop(LoopWorkerMode.KTHREAD, false, false);
        Bio w = new Bio(BioOp.WRITE, Bio.REQ_PREFLUSH | Bio.REQ_FUA, dev, 0, Bio.PAGE_SIZE, null, null, "test");
        assertEquals(BlkFlush.REQ_FSEQ_PREFLUSH | BlkFlush.REQ_FSEQ_DATA | BlkFlush.REQ_FSEQ_POSTFLUSH, BlkFlush.blkFlushPolicy(w, true, false));
        assertEquals(BlkFlush.REQ_FSEQ_PREFLUSH | BlkFlush.REQ_FSEQ_DATA, BlkFlush.blkFlushPolicy(w, true, true), "FUA kept on a device that has it");
        assertEquals(BlkFlush.REQ_FSEQ_DATA, BlkFlush.blkFlushPolicy(w, false, false), "no cache, nothing to flush");
    }

    /**
     * The contexts reclaim ran in for a one-page write of {@code file} by the calling task (no scope),
     * with every allocation of the write reclaiming ({@link ReclaimRecorder}).
     */
    private List<String> reclaimContextsOfAWrite(String file) {
        long page = ++pagesWritten; // a page not cached yet
        try (OpenFile f = fs.open(file)) {
            return ReclaimRecorder.during(sys.pages(), sys.platform(), Gfp::toString,
                    () -> f.write(page * Bio.PAGE_SIZE, Bio.PAGE_SIZE)).stream().distinct().toList();
        }
    }

    @Test
    void bindingTheFileMakesEveryPageCacheAllocationOfItNoioAndUnbindingRestoresTheMask() {
        String nofs = JournalFs.MAPPING_GFP.toString();
        String noio = Gfp.NOIO.with(Gfp.Modifier.NOFAIL).toString();
        assertEquals(List.of(nofs), reclaimContextsOfAWrite("image"), "before losetup, the filesystem's mask (XFS's GFP_NOFS)");
        loop = new LoopDevice(sys, "loop0", fs, image, new LoopSettings(LoopWorkerMode.KTHREAD, false, false));
        assertEquals(List.of(noio), reclaimContextsOfAWrite("image"), "loop_configure cleared __GFP_IO | __GFP_FS");
        assertEquals(List.of(nofs), reclaimContextsOfAWrite("other"), "another file keeps the filesystem's mask");
        loop.close();
        assertEquals(List.of(nofs), reclaimContextsOfAWrite("image"), "__loop_clr_fd restored the old mask");
    }

    @Test
    void aDirectWriteToAFileOfAReadOnlyFilesystemFailsAndFreesItsDio() {
        Disk sdb = new Disk(sys.platform(), "sdb", 1 << 12, Duration.ZERO, 4);
        FsLayout roLayout = FsLayout.mkfs(1 << 12, 4, 4);
        FsLayout.FileEntry roImage = roLayout.addFile("image", 16, 16L * Bio.PAGE_SIZE);
        JournalFs ro = JournalFs.mount(sdb, roLayout, MountOptions.READ_ONLY, cache, sys.workqueues(),
                new BdiWriteback("sdb", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache)));
        loop = new LoopDevice(sys, "loop1", ro, roImage, new LoopSettings(LoopWorkerMode.KTHREAD, false, true));
        long free = sys.pages().freePages();
        assertEquals(BlkStatus.IOERR, write(loop, 0, 7), "the write cannot allocate on a read-only filesystem");
        assertEquals(free, sys.pages().freePages(), "the dio allocated for the write was freed");
        assertEquals(0, sdb.contentAt(roImage.startBlock() * FsLayout.BLOCK_SECTORS), "nothing reached the disk");
    }

    @Test
    void theDeviceIsTheFilesExtentAndRequestsPastItAreRefusedAtSubmission() {
        LoopDevice dev = loop(LoopWorkerMode.KTHREAD, true, true);
        assertEquals(16L * FsLayout.BLOCK_SECTORS, dev.capacitySectors());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> write(dev, 16, 1));
        assertTrue(e.getMessage().contains("past the end of loop0"), e.getMessage());
        assertEquals(BlkStatus.OK, write(dev, 15, 1));
    }

    @Test
    void aBindingThatFailsAfterNarrowingTheMaskRestoresItAndClosesTheFile() {
        long inUse = fs.cachedInodes() - fs.unusedInodes();
        // A blank name: the device's workqueue cannot be created, after the mapping's mask was narrowed.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LoopDevice(sys, " ", fs, image, new LoopSettings(LoopWorkerMode.WORKQUEUE, false, false)));
        assertTrue(e.getMessage().contains("non-blank name"), e.getMessage());
        try (OpenFile f = fs.open("image")) {
            assertEquals(JournalFs.MAPPING_GFP, f.inode().mapping().gfpMask(), "the backing mapping's mask is restored");
        }
        assertEquals(inUse, fs.cachedInodes() - fs.unusedInodes(), "the failed binding left the backing file closed");
        loop(LoopWorkerMode.WORKQUEUE, false, false); // the file binds again
        try (OpenFile f = fs.open("image")) {
            assertEquals(JournalFs.MAPPING_GFP.scopedBy(dev.rescuer.core.mm.MemallocScope.NOIO), f.inode().mapping().gfpMask());
        }
    }

    @Test
    void aModeIsSpelledAsASetting() {
        assertEquals(LoopWorkerMode.WORKQUEUE, LoopWorkerMode.of("workqueue"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoopWorkerMode.of("kworker"));
        assertTrue(e.getMessage().contains("'kworker'"), e.getMessage());
    }
}
