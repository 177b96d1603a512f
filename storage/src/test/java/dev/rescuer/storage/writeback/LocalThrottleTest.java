package dev.rescuer.storage.writeback;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.pagecache.AddressSpace;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code PF_LOCAL_THROTTLE} in {@code balance_dirty_pages}, on real threads: the system is over its
 * dirty threshold because of another device's pages, which only the writer could clean (the device
 * above a loop device, whose bios the loop worker serves); a writer with the flag is held only
 * against its own device's share, so it goes on; the per-device counters and shares it reads.
 */
class LocalThrottleTest {

    private final RescuerSystem sys = RescuerSystem.builder().name("ram").totalPages(1016).watermarks(8, 12, 16)
            .pagesPerThread(1).workqueues(WorkqueueConfig.defaults().withCpus(1)).build();
    private final PageCache cache = new PageCache(sys.pages());
    private final DirtyThrottle throttle = new DirtyThrottle(cache, 5, 2);
    private final WorkQueue bdiWq = BdiWriteback.allocBdiWq(sys.workqueues());
    /** The device above: its bios are held, as a loop device's are while its worker is busy. */
    private final HeldDisk upperDisk = new HeldDisk("loop0", sys.platform());
    private final TestDisk lowerDisk = new TestDisk("sda", sys.platform(), 1 << 16, Duration.ZERO);
    private final BdiWriteback upper = new BdiWriteback("loop0", bdiWq, throttle);
    private final BdiWriteback lower = new BdiWriteback("sda", bdiWq, throttle);
    private final AddressSpace upperFile = cache.newAddressSpace("loop0:big", Gfp.NOFS, upperDisk.extent(), upper);
    private final AddressSpace image = cache.newAddressSpace("sda:image", Gfp.NOIO, lowerDisk.extent(0, 1000, false), lower);
    private Pages taken;

    @AfterEach
    void close() {
        upperDisk.release();
        if (taken != null) {
            taken.free();
        }
        sys.close();
    }

    /**
     * 20 pages of the device above stuck under writeback, 4 of the image written and completed, then
     * memory taken until the dirty threshold is 10 pages: the system is over it, and the image's
     * device has had every completion, so its share is the whole threshold.
     */
    private void overTheLimitBecauseOfTheDeviceAbove() {
        upperFile.write(0, 20); // under the freerun ceiling: no throttling yet
        upper.wakeupFlusher(20);
        image.write(0, 4);
        lower.wakeupFlusher(4);
        bdiWq.flush();
        assertEquals(20, upper.stat().writeback(), "the device above holds its bios");
        assertEquals(0, lower.stat().dirty(), "the image's pages were written and completed");
        assertEquals(4, lower.completions());
        assertEquals(0, upper.completions());
        // dirtyable = free + file pages - high watermark = 200 pages: thresholds 10 and 4
        long keepFree = 200 + 16 - cache.nrFilePages();
        taken = sys.pages().allocate((int) (sys.pages().freePages() - keepFree), Gfp.KERNEL);
        assertEquals(10, throttle.dirtyThresh());
        assertEquals(4, throttle.backgroundThresh());
        assertEquals(10, throttle.wbThresh(lower, throttle.dirtyThresh()), "every completion was the image's");
        assertEquals(0, throttle.wbThresh(upper, throttle.dirtyThresh()));
        assertTrue(cache.nrDirty() + cache.nrWriteback() > throttle.dirtyThresh());
    }

    @Test
    void theCacheKeepsEachDevicesDirtyAndWritebackPagesBesideTheGlobalCounts() {
        upperFile.write(0, 3);
        image.write(0, 2);
        assertEquals(3, upper.stat().reclaimable());
        assertEquals(2, lower.stat().reclaimable());
        upper.wakeupFlusher(3);
        bdiWq.flush();
        assertEquals(0, upper.stat().reclaimable());
        assertEquals(3, upper.stat().writeback());
        assertEquals(cache.nrDirty(), upper.stat().reclaimable() + lower.stat().reclaimable());
        assertEquals(cache.nrWriteback(), upper.stat().writeback() + lower.stat().writeback());
        upperDisk.release();
        assertEquals(0, upper.stat().dirty());
        assertEquals(3, upper.completions(), "__wb_writeout_add counts the device's completions");
    }

    @Test
    void aLocalThrottleWriterGoesOnBelowItsOwnDevicesFreerunCeilingWhateverTheGlobalState() {
        overTheLimitBecauseOfTheDeviceAbove();
        Task self = sys.platform().currentTask();
        int orig = self.flags();
        self.setFlags(orig | DirtyThrottle.PF_LOCAL_THROTTLE);
        try {
            // Without the flag the writer would sleep until the system is under 10 dirty pages, which
            // only the held device above can give; the timeout turns that into a failure.
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                Task t = sys.platform().currentTask();
                t.setFlags(t.flags() | DirtyThrottle.PF_LOCAL_THROTTLE);
                image.write(4, 1);
            });
        } finally {
            self.setFlags(orig);
        }
        assertEquals(0, throttle.throttledCount(), "the writer was never put to sleep");
        assertTrue(cache.nrDirty() + cache.nrWriteback() > throttle.dirtyThresh(), "the system is still over its limit");
        assertEquals(20, upper.stat().writeback(), "the device above is still held");
        assertFalse(lower.stat().dirty() >= 7, "the image's device is below its freerun ceiling (10 + 4) / 2");
    }

    @Test
    void aThrottledWriterSleepsOnItsOwnDevicesQueue() {
        assertEquals("wb sda/balance_dirty_pages", lower.throttleWait().name());
        assertEquals("wb loop0/balance_dirty_pages", upper.throttleWait().name());
        assertEquals("balance_dirty_pages", lower.throttleWait().lockClass());
    }

    /** A device that holds every bio until {@link #release}. */
    private static final class HeldDisk implements BlockDevice {
        private final String name;
        private final Platform platform;
        private final List<Bio> held = new CopyOnWriteArrayList<>();

        HeldDisk(String name, Platform platform) {
            this.name = name;
            this.platform = platform;
        }

        dev.rescuer.storage.pagecache.AddressSpaceOperations extent() {
            BlockDevice self = this;
            return new dev.rescuer.storage.pagecache.AddressSpaceOperations() {
                @Override
                public BlockDevice device() {
                    return self;
                }

                @Override
                public long sectorOf(AddressSpace mapping, long index) {
                    return index * 8;
                }

                @Override
                public boolean writepageFromReclaim() {
                    return false;
                }
            };
        }

        void release() {
            for (Bio b : held) {
                held.remove(b);
                b.endio();
            }
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public long capacitySectors() {
            return 1 << 16;
        }

        @Override
        public Platform platform() {
            return platform;
        }

        @Override
        public void submitBio(Bio bio) {
            held.add(bio);
        }
    }
}
