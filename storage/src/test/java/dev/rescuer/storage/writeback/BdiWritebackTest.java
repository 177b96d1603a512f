package dev.rescuer.storage.writeback;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.pagecache.AddressSpace;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writeback item and the dirty limits on real threads. */
class BdiWritebackTest {

    private final RescuerSystem sys = RescuerSystem.builder().name("ram").totalPages(1016).watermarks(8, 12, 16)
            .pagesPerThread(1).workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
    private final PageCache cache = new PageCache(sys.pages());
    private final TestDisk disk = new TestDisk("sda", sys.platform(), 1 << 16, Duration.ZERO);

    @AfterEach
    void close() {
        sys.close();
    }

    private AddressSpace file(String name, BdiWriteback wb, int base) {
        return cache.newAddressSpace(name, Gfp.KERNEL, disk.extent(base, 1000, false), wb);
    }

    @Test
    void theBdiQueueHasTheKernelsFlags() {
        WorkQueue q = BdiWriteback.allocBdiWq(sys.workqueues());
        assertEquals("writeback", q.name());
        assertEquals(Set.of(WqFlag.MEM_RECLAIM, WqFlag.UNBOUND, WqFlag.FREEZABLE), q.flags());
        assertTrue(q.hasRescuer());
    }

    @Test
    void limitsFollowDirtyableMemoryAndBadRatiosAreRefused() {
        DirtyThrottle t = new DirtyThrottle(cache, 20, 10);
        long dirtyable = sys.pages().freePages() - 16; // no page-cache pages yet; the reserve is the high watermark
        assertEquals(dirtyable, t.dirtyableMemory());
        assertEquals(dirtyable * 20 / 100, t.dirtyThresh());
        assertEquals(dirtyable * 10 / 100, t.backgroundThresh());
        DirtyThrottle inverted = new DirtyThrottle(cache, 10, 30);
        assertEquals(inverted.dirtyThresh() / 2, inverted.backgroundThresh(), "a background ratio above the dirty one is halved");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DirtyThrottle(cache, 0, 10));
        assertEquals("vm.dirty_ratio must be a percentage in 1..100, got 0", e.getMessage());
    }

    @Test
    void aReclaimRequestWritesAboutThatManyPagesAcrossDirtyInodes() {
        BdiWriteback wb = new BdiWriteback("sda", BdiWriteback.allocBdiWq(sys.workqueues()), new DirtyThrottle(cache, 100, 90));
        AddressSpace a = file("a", wb, 0);
        AddressSpace b = file("b", wb, 1000);
        a.write(0, 4);
        b.write(0, 4);
        assertFalse(wb.writebackInProgress(), "below the freerun ceiling nobody starts writeback");
        wb.wakeupFlusher(6);
        wb.queue().flush();
        assertEquals(6, wb.pagesSubmitted());
        assertEquals(2, cache.nrDirty());
        assertEquals(0, cache.nrWriteback(), "the test disk ends bios inline");
    }

    @Test
    void aWriterReturnsOnlyUnderTheDirtyLimitWithWritebackStarted() {
        DirtyThrottle t = new DirtyThrottle(cache, 5, 2);
        BdiWriteback wb = new BdiWriteback("sda", BdiWriteback.allocBdiWq(sys.workqueues()), t);
        AddressSpace a = file("a", wb, 0);
        a.write(0, 200);
        assertTrue(wb.pagesSubmitted() > 0, "background writeback ran");
        assertTrue(cache.nrDirty() + cache.nrWriteback() <= t.dirtyThresh(), "the writer returned only under the limit");
        assertTrue(cache.stats().balances());
    }
}
