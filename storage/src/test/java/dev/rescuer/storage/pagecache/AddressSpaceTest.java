package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page cache on real threads: misses, dirtying, writeback and its waits, errors, allocation context, reclaim. */
class AddressSpaceTest {

    static final long FILE_PAGES = 64;

    private final Platform platform = new RealPlatform();
    private final List<AutoCloseable> closeMe = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeMe.size() - 1; i >= 0; i--) {
            closeMe.get(i).close();
        }
        platform.close();
    }

    private PageAllocator allocator(long total, long min, long low, long high) {
        PageAllocator a = PageAllocator.builder(platform).name("ram").totalPages(total).watermarks(min, low, high)
                .reclaimRetries(2).retryBackoff(Duration.ofMillis(1)).shrinkBatch(32).build(); // SWAP_CLUSTER_MAX batches
        closeMe.add(a);
        return a;
    }

    /** A 256-page allocator, its page cache, a disk and one file "f" on it. */
    private record Rig(PageAllocator ram, PageCache cache, TestDisk disk, AddressSpace file) {
    }

    private Rig rig(Duration latency, InodeWriteback wb) {
        PageAllocator ram = allocator(256, 4, 8, 12);
        PageCache cache = new PageCache(ram);
        TestDisk disk = new TestDisk("sda", platform, 1 << 16, latency);
        return new Rig(ram, cache, disk, cache.newAddressSpace("f", Gfp.KERNEL, disk.extent(0, FILE_PAGES, false), wb));
    }

    /** Records the calls a mapping makes into writeback. */
    static final class RecordingWriteback implements InodeWriteback {
        final ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();

        @Override
        public void markInodeDirty(AddressSpace mapping) {
            calls.add("dirty " + mapping.name());
        }

        @Override
        public void balanceDirtyPagesRatelimited(AddressSpace mapping) {
        }

        @Override
        public void wakeupFlusher(long nrPages) {
            calls.add("flusher " + nrPages);
        }

        @Override
        public void writebackEnded(AddressSpace mapping, int pages) {
        }
    }

    @Test
    void aMissAllocatesAndReadsOnceAndAHitDoesNeither() {
        Rig rig = rig(Duration.ZERO, InodeWriteback.NONE);
        PageAllocator ram = rig.ram();
        PageCache cache = rig.cache();
        TestDisk disk = rig.disk();
        AddressSpace m = rig.file();

        assertEquals(4, m.read(0, 4));
        assertEquals(4, disk.count(BioOp.READ));
        assertEquals(4, cache.nrFilePages());
        assertEquals(252, ram.freePages());
        assertEquals(0, m.read(1, 3), "cached pages are not read again");
        assertEquals(4, disk.count(BioOp.READ));
        assertTrue(cache.stats().balances());
    }

    @Test
    void aFailedReadThrowsAndTheNextReadRetries() {
        Rig rig = rig(Duration.ZERO, InodeWriteback.NONE);
        PageCache cache = rig.cache();
        TestDisk disk = rig.disk();
        AddressSpace m = rig.file();
        disk.failWhen(b -> true);
        assertThrows(PageIoException.class, () -> m.read(0, 1));
        disk.failWhen(b -> false);
        assertEquals(1, m.read(0, 1));
        assertEquals(2, disk.count(BioOp.READ));
        assertEquals(1, cache.nrFilePages(), "the failed page was reused, not allocated twice");
    }

    @Test
    void writeDirtiesAndWriteAndWaitCleansThroughInterruptCompletions() {
        RecordingWriteback wb = new RecordingWriteback();
        Rig rig = rig(Duration.ofMillis(1), wb);
        PageCache cache = rig.cache();
        TestDisk disk = rig.disk();
        AddressSpace m = rig.file();

        m.write(0, 3);
        m.write(1, 1);
        assertEquals(3, m.nrDirty());
        assertEquals(3, cache.nrDirty());
        assertEquals(List.of("dirty f"), new ArrayList<>(wb.calls), "the inode is marked dirty once, on its first dirty page");
        assertEquals(0, disk.count(BioOp.WRITE), "writing only dirties");

        assertEquals(BlkStatus.OK, m.filemapWriteAndWaitRange(0, Long.MAX_VALUE));
        assertEquals(0, cache.nrDirty());
        assertEquals(0, cache.nrWriteback(), "filemap_write_and_wait returns after the completions");
        assertEquals(3, disk.count(BioOp.WRITE));
        assertTrue(disk.seen().stream().allMatch(s -> s.has(Bio.REQ_SYNC)), "data-integrity writeback is REQ_SYNC");
        PageCacheStats s = cache.stats();
        assertEquals(3, s.pagesDirtied());
        assertEquals(3, s.writebackEnded());
        assertTrue(s.balances());
    }

    @Test
    void aWritebackErrorIsReportedOnceAndThePageIsClean() {
        Rig rig = rig(Duration.ZERO, InodeWriteback.NONE);
        PageCache cache = rig.cache();
        TestDisk disk = rig.disk();
        AddressSpace m = rig.file();
        disk.failWhen(b -> b.op() == BioOp.WRITE);
        m.write(0, 2);
        assertEquals(BlkStatus.IOERR, m.filemapWriteAndWaitRange(0, 10));
        assertEquals(BlkStatus.OK, m.filemapWriteAndWaitRange(0, 10), "the error is cleared once reported");
        assertEquals(0, cache.nrDirty(), "a failed write leaves the page clean, as the kernel does");
        assertEquals(2, cache.stats().writebackErrors());
    }

    @Test
    void aWriteWithoutBlocksIsRefusedBeforeDirtyingAnything() {
        Rig rig = rig(Duration.ZERO, InodeWriteback.NONE);
        PageCache cache = rig.cache();
        AddressSpace m = rig.file();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.write(FILE_PAGES - 1, 2));
        assertTrue(e.getMessage().contains("page " + FILE_PAGES + " of f has no block"), e.getMessage());
        assertEquals(0, cache.nrFilePages());
        assertEquals(0, cache.nrDirty());
    }

    @Test
    void pagesAreAllocatedInTheCallersEffectiveContext() {
        PageAllocator ram = allocator(32, 4, 8, 12);
        List<Gfp> seen = new ArrayList<>();
        List<Pages> reclaimable = new ArrayList<>();
        ram.registerShrinker(new Shrinker() {
            @Override
            public String name() {
                return "probe";
            }

            @Override
            public long count(ShrinkControl control) {
                seen.add(control.gfp());
                return reclaimable.size();
            }

            @Override
            public long scan(ShrinkControl control) {
                if (reclaimable.isEmpty()) {
                    return 0;
                }
                reclaimable.remove(0).free();
                return 1;
            }
        });
        PageCache cache = new PageCache(ram);
        TestDisk disk = new TestDisk("sda", platform, 1 << 16, Duration.ZERO);
        AddressSpace m = cache.newAddressSpace("f", Gfp.KERNEL, disk.extent(0, FILE_PAGES, false), InodeWriteback.NONE);
        Pages hog = ram.allocate(27, Gfp.KERNEL);
        reclaimable.add(ram.allocate(1, Gfp.KERNEL)); // 4 free, min 4: the next page needs direct reclaim, which frees this one
        try (MemallocScope s = MemallocScope.nofs(platform)) {
            m.write(0, 1);
        }
        assertEquals(1, cache.nrFilePages(), "the page came after one reclaim pass");
        assertFalse(seen.isEmpty(), "the allocation went through direct reclaim");
        assertFalse(seen.get(0).mayFs(), "a page allocated in a nofs scope reclaims without __GFP_FS");
        assertTrue(seen.get(0).mayIo());
        hog.free();
    }

    @Test
    void directReclaimFreesCleanPagesAndOnlyWakesTheFlusherForDirtyOnes() {
        PageAllocator ram = allocator(64, 4, 8, 12);
        PageCache cache = new PageCache(ram);
        closeMe.add(cache.registerShrinker());
        TestDisk disk = new TestDisk("sda", platform, 1 << 16, Duration.ZERO);
        RecordingWriteback wb = new RecordingWriteback();
        AddressSpace clean = cache.newAddressSpace("clean", Gfp.KERNEL, disk.extent(0, FILE_PAGES, false), wb);
        AddressSpace dirty = cache.newAddressSpace("dirty", Gfp.KERNEL, disk.extent(0, FILE_PAGES, false), wb);
        dirty.write(0, 40);
        clean.read(0, 10);
        long writesBefore = disk.count(BioOp.WRITE);
        Pages p = ram.allocate(12, Gfp.KERNEL); // 14 free, min 4: only direct reclaim can find 12
        assertEquals(0, disk.count(BioOp.WRITE) - writesBefore, "direct reclaim never writes a page itself");
        assertEquals(40, cache.nrDirty(), "no dirty page was dropped");
        assertTrue(clean.nrPages() < 10, "clean pages were reclaimed");
        assertTrue(wb.calls.stream().anyMatch(c -> c.startsWith("flusher")),
                "a batch of only dirty pages wakes the flusher: " + wb.calls);
        assertTrue(cache.stats().balances());
        p.free();
    }
}
