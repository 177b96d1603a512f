package dev.rescuer.core.mm;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.mm.PageAllocatorTest.MIN;
import static dev.rescuer.core.mm.PageAllocatorTest.hogTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Headline: <b>reclaim honours allocation contexts.</b> Direct reclaim hands the shrinkers the
 * allocation's effective context, scopes applied, so a shrinker that must write back (I/O) or enter the
 * filesystem can refuse in a NOIO or NOFS context instead of recursing into the layer that is
 * allocating; and it runs them with the task in a NORECLAIM scope, so their own allocations do not
 * recurse into reclaim.
 */
class ReclaimContextTest {

    private RealPlatform platform;
    private PageAllocator pages;
    /** Dirty pages: freeing them needs writeback, i.e. I/O. */
    private PageCache writeback;
    /** Inodes: freeing them needs the filesystem. */
    private PageCache inodes;
    private Pages hog;

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        pages = PageAllocator.builder(platform).totalPages(128).watermarks(MIN, 24, 32)
                .reclaimRetries(1).retryBackoff(Duration.ofMillis(1)).build();
        inodes = new PageCache("inode_cache", PageCache.Needs.FS).fill(pages, 20);
        writeback = new PageCache("writeback", PageCache.Needs.IO).fill(pages, 20);
        pages.registerShrinker(inodes);
        pages.registerShrinker(writeback);
        hog = hogTo(pages, MIN);
    }

    @AfterEach
    void tearDown() {
        hog.close();
        inodes.drop();
        writeback.drop();
        assertEquals(pages.totalPages(), pages.freePages());
        pages.close();
        platform.close();
    }

    private static void assertAll(List<Gfp> seen, boolean io, boolean fs) {
        assertFalse(seen.isEmpty(), "the shrinker was never called");
        for (Gfp g : seen) {
            assertEquals(io, g.mayIo(), "mayIo of " + g);
            assertEquals(fs, g.mayFs(), "mayFs of " + g);
            assertTrue(g.mayDirectReclaim(), g.toString());
        }
    }

    @Test
    void plainKernelReclaimMayDoIoAndEnterTheFilesystem() {
        Pages got = pages.allocate(8, Gfp.KERNEL);
        assertNotNull(got);
        assertAll(inodes.countGfps, true, true);
        assertAll(inodes.scanGfps, true, true);
        assertEquals(0, inodes.stops.get() + writeback.stops.get());
        assertTrue(inodes.size() < 20, "the filesystem cache was shrunk");
        got.free();
    }

    @Test
    void underANofsScopeShrinkersSeeNoFsButMayStillDoIo() {
        Pages got;
        try (MemallocScope s = MemallocScope.nofs(platform)) {
            got = pages.allocate(8, Gfp.KERNEL);
        }
        assertAll(inodes.scanGfps, true, false);
        assertAll(writeback.countGfps, true, false);
        assertAll(writeback.scanGfps, true, false);
        assertSame(Gfp.NOFS, writeback.scanGfps.get(0));
        assertEquals(20, inodes.size(), "the filesystem cache refused (STOP) and kept its objects");
        assertTrue(inodes.stops.get() > 0);
        assertTrue(writeback.size() < 20, "writeback was allowed and freed the pages");
        got.free();
    }

    @Test
    void underANoioScopeShrinkersSeeNeitherIoNorFsAndTheAllocationFailsRatherThanRecurse() {
        Pages got;
        try (MemallocScope s = MemallocScope.noio(platform)) {
            // Costly (above order 3): an order-0..3 IO-less allocation would be too small to fail.
            got = pages.tryAllocate(PageAllocator.COSTLY_PAGES + 1, Gfp.KERNEL);
        }
        assertNull(got, "nothing could be reclaimed without I/O");
        assertAll(inodes.scanGfps, false, false);
        assertAll(writeback.countGfps, false, false);
        assertAll(writeback.scanGfps, false, false);
        assertSame(Gfp.NOIO, writeback.scanGfps.get(0));
        assertEquals(20, writeback.size(), "no writeback was started in a NOIO context");
        assertEquals(20, inodes.size());
        assertEquals(MIN, pages.freePages());
    }

    @Test
    void anExplicitNoioContextIsHonouredWithoutAScope() {
        assertNull(pages.tryAllocate(PageAllocator.COSTLY_PAGES + 1, Gfp.NOIO)); // costly, so it may fail
        assertAll(writeback.scanGfps, false, false);
        assertEquals(20, writeback.size());
        writeback.scanGfps.clear();
        Pages got = pages.allocate(8, Gfp.NOFS);
        assertAll(writeback.scanGfps, true, false);
        assertTrue(writeback.size() < 20);
        got.free();
    }

    @Test
    void shrinkersRunInTheAllocatingTaskInANoreclaimScopeAndTheirAllocationsDoNotRecurse() {
        Task self = platform.currentTask();
        AtomicInteger depth = new AtomicInteger();
        AtomicInteger maxDepth = new AtomicInteger();
        List<Integer> flagsInScan = new CopyOnWriteArrayList<>();
        List<Pages> nested = new CopyOnWriteArrayList<>();
        writeback.onScan = sc -> {
            assertSame(self, platform.currentTask());
            flagsInScan.add(platform.currentTask().memallocFlags());
            maxDepth.accumulateAndGet(depth.incrementAndGet(), Math::max);
            try {
                // Writing back needs a little memory itself (a bio, say): below min, with a sleeping context.
                nested.add(pages.allocate(1, Gfp.KERNEL));
            } finally {
                depth.decrementAndGet();
            }
        };
        long reclaimsBefore = pages.stats().directReclaims();
        try (MemallocScope s = MemallocScope.nofs(platform)) {
            Pages got = pages.allocate(8, Gfp.KERNEL);
            got.free();
            assertEquals(MemallocScope.NOFS, self.memallocFlags(), "reclaim's NORECLAIM scope is closed again, the caller's kept");
        }
        assertEquals(1, maxDepth.get(), "a shrinker's own allocation re-entered reclaim");
        assertFalse(flagsInScan.isEmpty());
        for (int f : flagsInScan) {
            assertTrue((f & MemallocScope.NORECLAIM) != 0, "shrinker ran without NORECLAIM: " + MemallocScope.describeFlags(f));
            assertTrue((f & MemallocScope.NOFS) != 0, "the caller's scope stays in force inside reclaim");
        }
        assertEquals(reclaimsBefore + 1, pages.stats().directReclaims(), "the nested allocations ran no reclaim of their own");
        assertEquals(flagsInScan.size(), nested.size(), "the nested allocations were served from the reserves");
        assertEquals(0, self.memallocFlags());
        for (Pages p : nested) {
            p.free();
        }
    }
}
