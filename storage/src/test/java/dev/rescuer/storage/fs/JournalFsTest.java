package dev.rescuer.storage.fs;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The filesystem on real threads: mount options, transactions under nofs, the journal's bios, the inode shrinker. */
class JournalFsTest {

    static final long SECTORS = 1 << 14;

    private RescuerSystem sys;
    private PageCache cache;
    private ShrinkerRegistration pcShrinker;
    private TestDisk disk;

    private void boot(long pages) {
        sys = RescuerSystem.builder().name("ram").totalPages(pages).watermarks(8, 12, 16).pagesPerThread(1)
                .backgroundReclaim(false).reclaimRetries(2).retryBackoff(Duration.ofMillis(1))
                .workqueues(dev.rescuer.core.wq.WorkqueueConfig.defaults().withCpus(1)).build();
        cache = new PageCache(sys.pages());
        pcShrinker = cache.registerShrinker();
        disk = new TestDisk("vdb", sys.platform(), SECTORS, Duration.ZERO);
    }

    @AfterEach
    void close() {
        if (pcShrinker != null) {
            pcShrinker.close();
        }
        if (sys != null) {
            sys.close();
        }
    }

    private JournalFs mountRw(FsLayout layout) {
        DirtyThrottle throttle = DirtyThrottle.withDefaults(cache);
        BdiWriteback wb = new BdiWriteback("vdb", BdiWriteback.allocBdiWq(sys.workqueues()), throttle);
        return JournalFs.mount(disk, layout, MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
    }

    @Test
    void readOnlyMountReadsAndRefusesEveryChange() {
        boot(512);
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 8);
        layout.addFile("data", 16, 10_000);
        JournalFs fs = JournalFs.mount(disk, layout, MountOptions.parse("ro"), cache, null, null);
        assertNull(fs.journal(), "a read-only mount starts no journal");
        try (OpenFile f = fs.open("data")) {
            assertEquals(10_000, f.read(0, 20_000), "a read stops at the end of the file");
            assertEquals(0, f.read(10_000, 1));
            assertEquals(1 + 3, disk.count(BioOp.READ), "the inode block and three data pages");
            ReadOnlyFilesystemException e = assertThrows(ReadOnlyFilesystemException.class, () -> f.write(0, 1));
            assertTrue(e.getMessage().contains("vdb is mounted read-only (EROFS)"), e.getMessage());
        }
        assertThrows(ReadOnlyFilesystemException.class, () -> fs.create("new", 1));
        assertEquals(0, disk.count(BioOp.WRITE));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> fs.open("nope"));
        assertTrue(missing.getMessage().contains("vdb:nope: no such file (ENOENT)"), missing.getMessage());
        fs.unmount();
        assertEquals(0, cache.nrFilePages(), "unmount frees every page");
    }

    @Test
    void fsyncWritesDataThenTheLogWhoseCommitBlockIsPreflushFua() {
        boot(512);
        JournalFs fs = mountRw(FsLayout.mkfs(SECTORS, 4, 8));
        try (OpenFile f = fs.create("f", 8)) {
            f.write(0, 3 * Bio.PAGE_SIZE + 100);
            assertEquals(0, fs.sizeOnDisk("f"), "the size change is only in the journal's open context");
            assertTrue(f.inode().isPinned());
            assertEquals(BlkStatus.OK, f.fsync());
            assertEquals(3 * Bio.PAGE_SIZE + 100, fs.sizeOnDisk("f"), "fsync made the logged size durable");
            assertFalse(f.inode().isPinned());
        }
        List<TestDisk.Seen> seen = disk.seen();
        List<TestDisk.Seen> writes = seen.stream().filter(s -> s.op() == BioOp.WRITE).toList();
        TestDisk.Seen commit = writes.get(writes.size() - 1);
        assertTrue(commit.has(Bio.REQ_PREFLUSH) && commit.has(Bio.REQ_FUA) && commit.has(Bio.REQ_META),
                "the last write is the commit block: " + commit);
        long dataWrites = writes.stream().filter(s -> s.origin().startsWith("writeback ")).count();
        assertEquals(4, dataWrites);
        assertTrue(writes.subList(0, 4).stream().allMatch(s -> s.origin().startsWith("writeback ")),
                "data reaches the disk before the log that makes its size visible: " + writes);
        assertTrue(writes.subList(4, writes.size() - 1).stream().allMatch(s -> s.has(Bio.REQ_META) && !s.has(Bio.REQ_FUA)),
                "log blocks precede the commit block");
        assertTrue(fs.journal().queue().flags().contains(WqFlag.MEM_RECLAIM), "the CIL push has its own reclaim queue");
        fs.unmount();
    }

    /**
     * A created inode is not read from disk ({@code XFS_IGET_CREATE} on a v5 filesystem); an existing
     * one is. Every log write is one log sector ({@code log_sector_bytes}), 4 KiB by default.
     */
    @Test
    void createReadsNoInodeAndLogWritesAreOneLogSector() {
        boot(512);
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 8, 512);
        layout.addFile("old", 4, Bio.PAGE_SIZE);
        JournalFs fs = mountRw(layout);
        try (OpenFile f = fs.create("new", 2)) {
            f.write(0, Bio.PAGE_SIZE);
            assertEquals(0, disk.count(BioOp.READ), "creating a file reads nothing: " + disk.seen());
            assertEquals(BlkStatus.OK, f.fsync());
        }
        List<TestDisk.Seen> log = disk.seen().stream().filter(s -> s.origin().startsWith("xlog ")).toList();
        assertFalse(log.isEmpty());
        assertTrue(log.stream().allMatch(s -> s.sectors() == 1), "512-byte log sectors: " + log);
        try (OpenFile f = fs.open("old")) {
            assertEquals(1, disk.count(BioOp.READ), "opening an existing file reads its inode");
        }
        fs.unmount();
        assertEquals("mkfs: the log sector size must be a power of 2 from 512 to 4096 bytes, got 1000",
                assertThrows(IllegalArgumentException.class, () -> FsLayout.mkfs(SECTORS, 4, 8, 1000)).getMessage());
        assertEquals(Bio.PAGE_SIZE, FsLayout.mkfs(SECTORS, 4, 8).logSectorBytes());
    }

    @Test
    void aTransactionRunsInANofsScope() {
        boot(512);
        JournalFs fs = mountRw(FsLayout.mkfs(SECTORS, 4, 8));
        assertTrue(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayFs());
        try (Handle h = fs.journal().start()) {
            assertFalse(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayFs(),
                    "GFP_KERNEL inside a transaction is GFP_NOFS (memalloc_nofs_save in start_this_handle)");
            assertTrue(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayIo());
        }
        assertTrue(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayFs(), "journal_stop restores the scope");
        fs.unmount();
    }

    @Test
    void inodeReclaimBailsWithoutFsAndForcesTheLogWithIt() {
        boot(96);
        JournalFs fs = mountRw(FsLayout.mkfs(SECTORS, 4, 8));
        try (OpenFile f = fs.create("f", 8)) {
            f.write(0, 2 * Bio.PAGE_SIZE);
            assertEquals(BlkStatus.OK, f.inode().mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE)); // data only
            assertTrue(f.inode().isPinned(), "the size change is not committed");
        }
        assertEquals(1, fs.unusedInodes());
        long pushes = fs.journal().pushes();

        Pages hog = sys.pages().allocate((int) (sys.pages().freePages() - 9), Gfp.KERNEL); // 9 free, min 8
        try (MemallocScope s = MemallocScope.nofs(sys.platform())) {
            // RETRY_MAYFAIL: a plain GFP_NOFS allocation of 4 pages is too small to fail and would retry for ever.
            Pages p = sys.pages().tryAllocate(4, Gfp.KERNEL.with(Gfp.Modifier.NOWARN, Gfp.Modifier.RETRY_MAYFAIL));
            if (p != null) {
                p.free();
            }
        }
        assertEquals(pushes, fs.journal().pushes(), "super_cache_scan stops without __GFP_FS: no log force");
        assertEquals(1, fs.cachedInodes());

        Pages q = sys.pages().tryAllocate(4, Gfp.KERNEL.with(Gfp.Modifier.NOWARN));
        assertEquals(pushes + 1, fs.journal().pushes(), "GFP_KERNEL reclaim forced the log to unpin the inode");
        assertEquals(0, fs.cachedInodes(), "and reclaimed it");
        assertEquals(2 * Bio.PAGE_SIZE, fs.sizeOnDisk("f"));
        if (q != null) {
            q.free();
        }
        hog.free();
        try (OpenFile again = fs.open("f")) {
            assertEquals(2 * Bio.PAGE_SIZE, again.inode().size(), "the inode is read back with its committed size");
        }
        fs.unmount();
    }

    @Test
    void writesBeyondTheExtentAndBadLayoutsAreRefusedByName() {
        boot(512);
        JournalFs fs = mountRw(FsLayout.mkfs(SECTORS, 4, 8));
        try (OpenFile f = fs.create("f", 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.write(Bio.PAGE_SIZE, Bio.PAGE_SIZE + 1));
            assertTrue(e.getMessage().contains("reaches block 2, but the file has 2 blocks"), e.getMessage());
            assertEquals(0, cache.nrFilePages(), "nothing was written");
            assertThrows(IllegalArgumentException.class, () -> f.read(-1, 1));
        }
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> fs.create("f", 1));
        assertTrue(dup.getMessage().contains("file 'f' already exists"), dup.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> FsLayout.mkfs(64, 4, 8));
        assertTrue(small.getMessage().contains("cannot hold"), small.getMessage());
        IllegalArgumentException opt = assertThrows(IllegalArgumentException.class, () -> MountOptions.parse("ro,noatime"));
        assertTrue(opt.getMessage().contains("'noatime'"), opt.getMessage());
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> JournalFs.mount(new TestDisk("tiny", sys.platform(), 128, Duration.ZERO), FsLayout.mkfs(SECTORS, 4, 8),
                        MountOptions.READ_ONLY, cache, null, null));
        assertTrue(big.getMessage().contains("needs " + SECTORS + " sectors, the device has 128"), big.getMessage());
        fs.unmount();
    }
}
