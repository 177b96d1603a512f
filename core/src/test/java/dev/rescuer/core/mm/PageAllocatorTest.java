package dev.rescuer.core.mm;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.mm.Gfp.Modifier;
import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Bounded;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PageAllocator}: watermarks, reserves, direct reclaim, failure rules and the {@link Pages}
 * handle. Budget 128 pages, min 16, low 24, high 32, two retries with a 1 ms back-off; kswapd is not
 * started, so nothing runs behind the test's back.
 */
class PageAllocatorTest {

    static final int TOTAL = 128;
    static final int MIN = 16;
    static final int LOW = 24;
    static final int HIGH = 32;
    static final int RETRIES = 2;

    private RealPlatform platform;
    private PageAllocator pages;
    private final AtomicLong seq = new AtomicLong();

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        pages = allocator("pages", Duration.ofMillis(1));
    }

    @AfterEach
    void tearDown() {
        pages.close();
        platform.close();
    }

    private PageAllocator allocator(String name, Duration backoff) {
        return PageAllocator.builder(platform).name(name).totalPages(TOTAL).watermarks(MIN, LOW, HIGH)
                .reclaimRetries(RETRIES).retryBackoff(backoff).build();
    }

    /** Takes pages without reclaim (MEMALLOC reaches every page) until exactly {@code free} remain. */
    static Pages hogTo(PageAllocator a, long free) {
        int n = (int) (a.freePages() - free);
        Pages p = a.allocate(n, Gfp.KERNEL.with(Modifier.MEMALLOC));
        assertEquals(free, a.freePages());
        return p;
    }

    static void assertBalanced(PageAllocator a) {
        PageStats s = a.stats();
        assertEquals(s.totalPages(), s.freePages() + s.usedPages(), s.toString());
        assertEquals(s.usedPages(), s.pagesAllocated() - s.pagesFreed(), s.toString());
    }

    @Test
    void theFastPathServesAllocationsThatLeaveLowFree() {
        Pages a = pages.allocate(10, Gfp.KERNEL);
        assertEquals(10, a.count());
        assertEquals(10, a.remaining());
        assertSame(Gfp.KERNEL, a.gfp());
        Pages b = pages.allocate(TOTAL - 10 - LOW, Gfp.NOWAIT); // lands exactly on low: still the fast path
        assertEquals(LOW, pages.freePages());
        PageStats s = pages.stats();
        assertEquals(0, s.slowPaths());
        assertEquals(0, s.directReclaims());
        assertEquals(2, s.allocations());
        assertEquals(TOTAL - LOW, s.pagesAllocated());
        assertEquals(TOTAL - LOW, s.usedPages());

        Pages c = pages.allocate(1, Gfp.KERNEL); // below low: the slow path, still above min
        assertEquals(1, pages.stats().slowPaths());
        assertEquals(0, pages.stats().directReclaims(), "above min the slow path takes the pages without reclaim");
        assertEquals(LOW - 1, pages.freePages());
        a.free();
        b.free();
        c.free();
        assertEquals(TOTAL, pages.freePages());
        assertBalanced(pages);
    }

    @Test
    void nowaitAndAtomicFailFastBelowTheWatermarksWithoutCallingShrinkers() {
        PageCache cache = new PageCache("cache").fill(pages, 20);
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            Pages hog = hogTo(pages, MIN);
            PageStats before = pages.stats();
            assertNull(pages.tryAllocate(1, Gfp.NOWAIT));
            assertNull(pages.tryAllocate(11, Gfp.ATOMIC));
            PageAllocationException e = assertThrows(PageAllocationException.class, () -> pages.allocate(1, Gfp.NOWAIT));
            assertTrue(e.getMessage().contains("may not sleep"), e.getMessage());
            PageStats after = pages.stats();
            assertEquals(0, cache.counts.get() + cache.scans.get(), "a context that may not sleep must not reclaim");
            assertEquals(before.directReclaims(), after.directReclaims());
            assertEquals(before.failures() + 3, after.failures());
            assertEquals(MIN, pages.freePages());
            assertEquals(20, cache.size());
            hog.free();
        }
        cache.drop();
        assertEquals(TOTAL, pages.freePages());
    }

    @Test
    void atomicDipsDeeperThanNowait() {
        Pages hog = hogTo(pages, MIN);
        assertNull(pages.tryAllocate(1, Gfp.NOWAIT), "NOWAIT stops at min");
        // __GFP_HIGH halves min (8); without direct reclaim a further quarter goes (6): three eighths of min.
        Pages atomic = pages.allocate(MIN - 6, Gfp.ATOMIC);
        assertEquals(6, pages.freePages());
        assertNull(pages.tryAllocate(1, Gfp.ATOMIC), "ATOMIC stops at three eighths of min");
        atomic.free();

        Pages high = pages.allocate(MIN - 8, Gfp.KERNEL.with(Modifier.HIGH, Modifier.NORETRY));
        assertEquals(8, pages.freePages(), "a sleeping HIGH allocation may go to half of min");
        assertNull(pages.tryAllocate(1, Gfp.KERNEL.with(Modifier.HIGH, Modifier.NORETRY)));
        high.free();
        hog.free();
        assertBalanced(pages);
    }

    @Test
    void memallocTakesTheReservesDownToZero() {
        PageCache cache = new PageCache("cache").fill(pages, 8);
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            Pages hog = hogTo(pages, MIN);
            Pages all = pages.allocate(MIN, Gfp.NOWAIT.with(Modifier.MEMALLOC));
            assertEquals(0, pages.freePages());
            assertEquals(0, cache.scans.get(), "the reserves were enough: no reclaim");
            all.free();
            Pages all2 = pages.allocate(MIN, Gfp.ATOMIC.with(Modifier.MEMALLOC));
            assertEquals(0, pages.freePages());
            all2.free();
            hog.free();
        }
        cache.drop();
        assertBalanced(pages);
    }

    @Test
    void aTaskInANoreclaimScopeTakesTheReservesButNeverReclaims() {
        PageCache cache = new PageCache("cache").fill(pages, 8);
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            Pages hog = hogTo(pages, MIN);
            Pages reserve;
            try (MemallocScope s = MemallocScope.noreclaim(platform)) {
                assertNull(pages.tryAllocate(1, Gfp.KERNEL.with(Modifier.NOMEMALLOC)), "NOMEMALLOC keeps even a reclaimer out of the reserves");
                reserve = pages.allocate(MIN, Gfp.KERNEL);
                assertEquals(0, pages.freePages());
                PageAllocationException e = assertThrows(PageAllocationException.class, () -> pages.allocate(1, Gfp.KERNEL));
                assertTrue(e.getMessage().contains("NORECLAIM"), e.getMessage());
                assertTrue(e.getMessage().contains("reserves are exhausted"), e.getMessage());
            }
            assertEquals(0, cache.counts.get() + cache.scans.get(), "a reclaiming task must not recurse into reclaim");
            assertEquals(0, pages.stats().directReclaims());
            reserve.free();
            hog.free();
        }
        cache.drop();
        assertBalanced(pages);
    }

    @Test
    void directReclaimCallsTheShrinkersInTheAllocatingTaskThenSucceeds() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        PageCache cache = new PageCache("cache").fill(pages, 40);
        AtomicReference<Task> reclaimer = new AtomicReference<>();
        cache.onScan = sc -> reclaimer.set(platform.currentTask());
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            Pages hog = hogTo(pages, MIN);
            PageStats before = pages.stats();
            Pages got = pages.allocate(8, Gfp.KERNEL);
            PageStats after = pages.stats();
            assertEquals(8, got.count());
            assertTrue(cache.scans.get() >= 1);
            assertSame(self, reclaimer.get(), "direct reclaim runs in the allocating task");
            assertEquals(before.directReclaims() + 1, after.directReclaims());
            long freedByCache = 40 - cache.size();
            assertTrue(freedByCache >= 8, "reclaim freed " + freedByCache);
            assertEquals(before.reclaimedObjects() + freedByCache, after.reclaimedObjects());
            assertEquals(MIN + freedByCache - 8, pages.freePages());
            got.free();
            hog.free();
        }
        cache.drop();
        assertEquals(TOTAL, pages.freePages());
        assertBalanced(pages);
    }

    @Test
    void aSleepingAllocationFromAtomicContextThrowsEvenWithMemoryPlentiful() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        PageStats before = pages.stats();
        self.enterAtomic();
        try {
            AtomicContextException e = assertThrows(AtomicContextException.class, () -> pages.allocate(1, Gfp.KERNEL));
            assertEquals("waitqueue", e.primitive().kind());
            assertEquals("pages/free", e.primitive().name());
            assertTrue(e.getMessage().contains("GFP_KERNEL"), e.getMessage());
            assertThrows(AtomicContextException.class, () -> pages.tryAllocate(1, Gfp.NOIO));
            assertThrows(AtomicContextException.class, () -> pages.allocate(1, Gfp.NOFS.with(Modifier.NOFAIL)));
            try (MemallocScope s = MemallocScope.noio(platform)) {
                assertThrows(AtomicContextException.class, () -> pages.allocate(1, Gfp.KERNEL), "a scope does not make it atomic-safe");
            }
            assertEquals(TOTAL, pages.freePages());
            assertEquals(before, pages.stats(), "a refused allocation leaves no trace in the counters");
            // Contexts that may not sleep are fine in atomic context.
            pages.allocate(1, Gfp.ATOMIC).free();
            pages.allocate(1, Gfp.NOWAIT).free();
        } finally {
            self.exitAtomic();
        }
        assertBalanced(pages);
    }

    /** A shrinker that always has something to count but never frees anything. */
    private static final class Stuck implements Shrinker {
        final AtomicInteger scans = new AtomicInteger();
        @Override public String name() { return "stuck"; }
        @Override public long count(ShrinkControl control) { return 5; }
        @Override public long scan(ShrinkControl control) {
            scans.incrementAndGet();
            return 0;
        }
    }

    @Test
    void withoutProgressAnAllocationFailsAfterTheRetriesAndSaysWhy() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        Stuck stuck = new Stuck();
        try (ShrinkerRegistration r = pages.registerShrinker(stuck)) {
            Pages hog = hogTo(pages, MIN);
            PageStats before = pages.stats();
            PageAllocationException e = assertThrows(PageAllocationException.class, () -> pages.allocate(1, Gfp.KERNEL));
            PageStats after = pages.stats();
            String m = e.getMessage();
            assertTrue(m.startsWith("page allocation failure: 1 pages, GFP_KERNEL"), m);
            assertTrue(m.contains("task " + self.name()), m);
            assertTrue(m.contains(MIN + " of " + TOTAL + " free (min 16, low 24, high 32)"), m);
            assertTrue(m.contains(RETRIES + " reclaim passes in a row made no progress"), m);
            // The kernel's rule: give up once no_progress_loops exceeds the retry limit.
            assertEquals(RETRIES + 1, after.directReclaims() - before.directReclaims());
            assertEquals(RETRIES + 1, stuck.scans.get());
            assertTrue(after.memoryWaits() - before.memoryWaits() >= RETRIES, "it slept between fruitless passes");
            assertEquals(before.failures() + 1, after.failures());
            assertEquals(MIN, pages.freePages(), "a failed allocation takes nothing");

            assertNull(pages.tryAllocate(1, Gfp.KERNEL), "tryAllocate reports the same failure as null");
            assertEquals(before.failures() + 2, pages.stats().failures());

            try (MemallocScope s = MemallocScope.noio(platform)) {
                // Costly (above order 3), so the IO-less context does not make it too small to fail.
                int costly = PageAllocator.COSTLY_PAGES + 1;
                PageAllocationException scoped = assertThrows(PageAllocationException.class, () -> pages.allocate(costly, Gfp.KERNEL));
                assertTrue(scoped.getMessage().contains(costly + " pages, GFP_KERNEL (effective GFP_NOIO under task scopes NOIO)"),
                        scoped.getMessage());
            }
            hog.free();
        }
        assertBalanced(pages);
    }

    @Test
    void noretryFailsAfterOnePass() {
        Stuck stuck = new Stuck();
        try (ShrinkerRegistration r = pages.registerShrinker(stuck)) {
            Pages hog = hogTo(pages, MIN);
            PageStats before = pages.stats();
            PageAllocationException e = assertThrows(PageAllocationException.class,
                    () -> pages.allocate(1, Gfp.KERNEL.with(Modifier.NORETRY)));
            assertTrue(e.getMessage().contains("__GFP_NORETRY"), e.getMessage());
            assertEquals(1, pages.stats().directReclaims() - before.directReclaims());
            assertEquals(1, stuck.scans.get());
            assertEquals(before.memoryWaits(), pages.stats().memoryWaits(), "NORETRY does not wait");
            hog.free();
        }
    }

    @Test
    void noretrySucceedsWhenItsOnePassFreesEnough() {
        PageCache cache = new PageCache("cache").fill(pages, 20);
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            Pages hog = hogTo(pages, MIN);
            Pages got = pages.allocate(4, Gfp.KERNEL.with(Modifier.NORETRY));
            assertEquals(4, got.count());
            got.free();
            hog.free();
        }
        cache.drop();
    }

    @Test
    void nofailWaitsOnTheFreeWaitQueueUntilAnotherTaskFreesPages() {
        // A back-off far beyond the test's patience: only the free's wake-up can end the wait.
        PageAllocator slow = allocator("nofail", Duration.ofHours(1));
        try {
            Pages hog = hogTo(slow, MIN);
            AtomicReference<Pages> got = new AtomicReference<>();
            DrivenTask d = new DrivenTask(platform, "nofail-allocator", seq);
            try {
                DrivenTask.Op op = d.submit(() -> got.set(slow.allocate(8, Gfp.KERNEL.with(Modifier.NOFAIL))));
                try {
                    Bounded.untilBlocked(d.task(), Bounded.primitive("waitqueue", "nofail/free"), "the allocator's free wait queue", op);
                    assertEquals("page_alloc_free", d.task().waitingOn().lockClass());
                    assertFalse(op.isDone());
                    assertEquals(MIN, slow.freePages());
                } finally {
                    hog.free(8);
                }
                DrivenTask.awaitDone(op);
                DrivenTask.rethrow(op);
            } finally {
                Bounded.closeUnlessBlocked(d);
            }
            assertNotNull(got.get());
            assertEquals(8, got.get().count());
            assertEquals(MIN, slow.freePages());
            assertTrue(slow.stats().memoryWaits() >= 1);
            got.get().free();
            hog.free();
            assertEquals(TOTAL, slow.freePages());
            assertBalanced(slow);
        } finally {
            slow.close();
        }
    }

    @Test
    void nofailKeepsReclaimingPastTheRetryLimit() {
        Stuck stuck = new Stuck();
        try (ShrinkerRegistration r = pages.registerShrinker(stuck)) {
            Pages hog = hogTo(pages, MIN);
            AtomicReference<Pages> got = new AtomicReference<>();
            DrivenTask d = new DrivenTask(platform, "nofail-retrier", seq);
            try {
                DrivenTask.Op op = d.submit(() -> got.set(pages.allocate(8, Gfp.KERNEL.with(Modifier.NOFAIL))));
                try {
                    Poll.until("NOFAIL reclaims well past the retry limit",
                            () -> stuck.scans.get() > 3 * (RETRIES + 1) || op.isDone());
                    assertFalse(op.isDone(), "NOFAIL gave up: " + op.failure());
                } finally {
                    hog.free(8);
                }
                DrivenTask.awaitDone(op);
                DrivenTask.rethrow(op);
            } finally {
                Bounded.closeUnlessBlocked(d);
            }
            assertEquals(8, got.get().count());
            got.get().free();
            hog.free();
        }
        assertEquals(TOTAL, pages.freePages());
    }

    @Test
    void doubleFreeAndOverFreeThrowNamingTheAllocationAndLeaveTheCountersIntact() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        Pages p = pages.allocate(4, Gfp.NOFS);
        String selfName = self.name();
        PageStats held = pages.stats();

        IllegalStateException over = assertThrows(IllegalStateException.class, () -> p.free(5));
        assertTrue(over.getMessage().contains("freeing 5 pages of allocation #"), over.getMessage());
        assertTrue(over.getMessage().contains("(4 pages, GFP_NOFS, by task " + selfName + ")"), over.getMessage());
        assertTrue(over.getMessage().contains("only 4 remain"), over.getMessage());
        assertEquals(4, p.remaining());
        assertEquals(held, pages.stats());

        assertThrows(IllegalArgumentException.class, () -> p.free(0));
        assertThrows(IllegalArgumentException.class, () -> p.free(-1));
        assertEquals(held, pages.stats());

        p.free(1);
        assertEquals(3, p.remaining());
        assertEquals(TOTAL - 3, pages.freePages());
        p.free();
        assertEquals(0, p.remaining());
        assertEquals(TOTAL, pages.freePages());
        PageStats freed = pages.stats();

        IllegalStateException dbl = assertThrows(IllegalStateException.class, p::free);
        assertTrue(dbl.getMessage().startsWith("double free of allocation #"), dbl.getMessage());
        assertTrue(dbl.getMessage().contains("by task " + selfName), dbl.getMessage());
        IllegalStateException dbl2 = assertThrows(IllegalStateException.class, () -> p.free(1));
        assertTrue(dbl2.getMessage().startsWith("double free of"), dbl2.getMessage());
        assertEquals(freed, pages.stats());

        p.close(); // close after free: a no-op
        assertEquals(freed, pages.stats());
        assertBalanced(pages);
    }

    @Test
    void closeFreesWhatRemains() {
        try (Pages p = pages.allocate(6, Gfp.KERNEL)) {
            p.free(2);
            assertEquals(TOTAL - 4, pages.freePages());
        }
        assertEquals(TOTAL, pages.freePages());
        assertEquals(6, pages.stats().pagesFreed());
        assertBalanced(pages);
    }

    @Test
    void requestsOutOfRangeAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> pages.allocate(0, Gfp.KERNEL));
        assertThrows(IllegalArgumentException.class, () -> pages.allocate(-3, Gfp.KERNEL));
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> pages.allocate(TOTAL + 1, Gfp.KERNEL));
        assertTrue(big.getMessage().contains("budget " + TOTAL), big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pages.tryAllocate(0, Gfp.NOWAIT));
        assertThrows(NullPointerException.class, () -> pages.allocate(1, null));
        assertEquals(0, pages.stats().failures());
        assertEquals(TOTAL, pages.freePages());
    }

    @Test
    void invalidConfigurationIsRejected() {
        IllegalArgumentException order = assertThrows(IllegalArgumentException.class,
                () -> PageAllocator.builder(platform).totalPages(64).watermarks(10, 5, 20).build());
        assertTrue(order.getMessage().contains("0 <= min <= low <= high < total"), order.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PageAllocator.builder(platform).totalPages(64).watermarks(4, 8, 6).build());
        assertThrows(IllegalArgumentException.class,
                () -> PageAllocator.builder(platform).totalPages(64).watermarks(4, 8, 64).build(), "high must stay below total");
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).watermarks(-1, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).totalPages(1));
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).reclaimRetries(-1));
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).retryBackoff(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).shrinkBatch(0));
        assertThrows(IllegalArgumentException.class, () -> PageAllocator.builder(platform).name(" "));
        assertThrows(IllegalStateException.class, () -> PageAllocator.builder(platform).build(), "totalPages is required");
        assertThrows(NullPointerException.class, () -> PageAllocator.builder(null));

        PageAllocator defaults = PageAllocator.builder(platform).totalPages(128).build();
        assertEquals(4, defaults.minWatermark());
        assertEquals(5, defaults.lowWatermark());
        assertEquals(6, defaults.highWatermark());
        assertEquals("pages", defaults.name());
        assertSame(platform, defaults.platform());
        assertNull(defaults.kswapdTask());
        defaults.close();
    }

    /**
     * Retries {@code alloc} in a task of its own until well past the retry limit, checks it has
     * neither failed nor returned, then frees {@code give} of {@code hog}'s pages and expects it to
     * succeed: an allocation that is too small to fail.
     */
    private void assertRetriesUntilFreed(Stuck stuck, Pages hog, int give, java.util.function.Supplier<Pages> alloc) {
        AtomicReference<Pages> got = new AtomicReference<>();
        DrivenTask d = new DrivenTask(platform, "retrier", seq);
        try {
            DrivenTask.Op op = d.submit(() -> got.set(alloc.get()));
            try {
                Poll.until("it reclaims well past the retry limit", () -> stuck.scans.get() > 3 * (RETRIES + 1) || op.isDone());
                assertFalse(op.isDone(), "it gave up: " + op.failure());
            } finally {
                hog.free(give);
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
        got.get().free();
    }

    @Test
    void anOrderZeroNofsOrNoioAllocationIsTooSmallToFail() {
        // __alloc_pages_may_oom: out_of_memory reports progress for a context without __GFP_FS
        // ("does not compensate for IO-less reclaim"), so the slow path retries for ever.
        Stuck stuck = new Stuck();
        try (ShrinkerRegistration r = pages.registerShrinker(stuck)) {
            Pages hog = hogTo(pages, MIN);
            assertRetriesUntilFreed(stuck, hog, 8, () -> pages.allocate(1, Gfp.NOFS));
            hog.free();
            stuck.scans.set(0);
            Pages hog2 = hogTo(pages, MIN);
            assertRetriesUntilFreed(stuck, hog2, 8, () -> {
                try (MemallocScope s = MemallocScope.noio(platform)) {
                    return pages.allocate(PageAllocator.COSTLY_PAGES, Gfp.KERNEL); // order 3 is not costly
                }
            });
            hog2.free();
        }
        assertBalanced(pages);
    }

    @Test
    void retryMayfailAndCostlyIoLessAllocationsStillFail() {
        Stuck stuck = new Stuck();
        try (ShrinkerRegistration r = pages.registerShrinker(stuck)) {
            Pages hog = hogTo(pages, MIN);
            assertNull(pages.tryAllocate(1, Gfp.NOFS.with(Modifier.RETRY_MAYFAIL)));
            assertNull(pages.tryAllocate(PageAllocator.COSTLY_PAGES + 1, Gfp.NOIO));
            PageAllocationException e = assertThrows(PageAllocationException.class, () -> pages.allocate(1, Gfp.KERNEL));
            assertTrue(e.getMessage().endsWith(RETRIES + " reclaim passes in a row made no progress (no OOM killer)"), e.getMessage());
            assertEquals(MIN, pages.freePages(), "the failures took nothing");
            hog.free();
        }
        assertBalanced(pages);
    }

    @Test
    void atomicWithNomemallocStopsAtHalfOfMin() {
        // gfp_to_alloc_flags: no ALLOC_NON_BLOCK for __GFP_NOMEMALLOC, so no extra quarter.
        Pages hog = hogTo(pages, MIN - MIN / 2);
        assertNull(pages.tryAllocate(1, Gfp.ATOMIC.with(Modifier.NOMEMALLOC)));
        Pages plain = pages.allocate(1, Gfp.ATOMIC);
        assertEquals(MIN - MIN / 2 - 1, pages.freePages(), "plain ATOMIC still goes below half of min");
        plain.free();
        hog.free();
        assertBalanced(pages);
    }
}
