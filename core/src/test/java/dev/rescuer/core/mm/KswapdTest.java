package dev.rescuer.core.mm;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Bounded;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static dev.rescuer.core.mm.PageAllocatorTest.hogTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kswapd, the background reclaimer: woken below low, reclaims up to high, backs off when fruitless. */
class KswapdTest {

    private static final int MIN = 16;
    private static final int LOW = 24;
    private static final int HIGH = 48;

    private static Predicate<Primitive> kswapdWait(PageAllocator pages) {
        return Bounded.primitive("waitqueue", "kswapd/" + pages.name() + "/wait");
    }

    /** Waits until kswapd has handled every wake-up so far and sleeps again. */
    private static void untilKswapdIdle(PageAllocator pages) {
        Task k = pages.kswapdTask();
        Poll.until("kswapd has handled its wake-ups and sleeps", () -> {
            PageStats s = pages.stats();
            return s.kswapdRuns() == s.kswapdWakeups() && Bounded.isBlockedOn(k, kswapdWait(pages));
        });
    }

    @Test
    void freePagesBelowLowWakeKswapdWhichReclaimsUpToHigh() {
        try (RescuerSystem sys = RescuerSystem.builder().withoutWorkqueues().name("bg").totalPages(128).watermarks(MIN, LOW, HIGH)
                .reclaimRetries(2).retryBackoff(Duration.ofMillis(1)).build()) {
            PageAllocator pages = sys.pages();
            Task kswapd = pages.kswapdTask();
            assertNotNull(kswapd, "backgroundReclaim defaults to on");
            assertEquals("kswapd/bg", kswapd.name());
            PageCache cache = new PageCache("cache").fill(pages, 60);
            List<Task> reclaimers = new CopyOnWriteArrayList<>();
            List<Integer> flags = new CopyOnWriteArrayList<>();
            cache.onScan = sc -> {
                reclaimers.add(sys.platform().currentTask());
                flags.add(sys.platform().currentTask().memallocFlags());
            };
            try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
                Pages hog = hogTo(pages, LOW - 6);
                assertEquals(0, pages.stats().kswapdWakeups(), "above low nobody woke kswapd");
                Pages one = pages.allocate(1, Gfp.NOWAIT); // finds free pages below low: wakes kswapd
                assertNotNull(one);
                Poll.until("kswapd reclaims up to the high watermark", () -> pages.freePages() >= HIGH);
                untilKswapdIdle(pages); // its pass is over and accounted
                PageStats s = pages.stats();
                assertTrue(s.kswapdWakeups() > 0, s.toString());
                assertTrue(s.kswapdRuns() > 0, s.toString());
                assertTrue(s.reclaimedObjects() > 0, s.toString());
                assertEquals(0, s.directReclaims(), "the allocating task did not reclaim itself");
                assertFalse(reclaimers.isEmpty());
                for (Task t : reclaimers) {
                    assertSame(kswapd, t, "background reclaim runs on kswapd");
                }
                for (int f : flags) {
                    assertTrue((f & MemallocScope.NORECLAIM) != 0, "kswapd reclaims in a NORECLAIM scope");
                }
                for (Gfp g : cache.scanGfps) {
                    assertSame(Gfp.KERNEL, g, "kswapd reclaims with GFP_KERNEL");
                }
                one.free();
                hog.free();
            }
            cache.drop();
        }
    }

    @Test
    void kswapdStopsAtTheHighWatermarkAndIgnoresTheWakersScopes() {
        RealPlatform platform = new RealPlatform();
        PageAllocator pages = PageAllocator.builder(platform).name("hw").totalPages(128).watermarks(MIN, LOW, HIGH)
                .shrinkBatch(4).build();
        try {
            pages.startBackgroundReclaim();
            PageCache cache = new PageCache("cache").fill(pages, 60);
            try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
                Pages hog = hogTo(pages, LOW - 6);
                Pages one;
                try (MemallocScope s = MemallocScope.noio(platform)) {
                    one = pages.allocate(1, Gfp.KERNEL); // above min: no direct reclaim, but kswapd is woken
                }
                Poll.until("kswapd ran", () -> pages.stats().kswapdRuns() > 0);
                untilKswapdIdle(pages);
                assertTrue(pages.freePages() >= HIGH, pages.toString());
                assertTrue(cache.size() > 0, "kswapd stops at high; it does not drain every cache");
                assertEquals(0, pages.stats().directReclaims());
                for (Gfp g : cache.scanGfps) {
                    assertSame(Gfp.KERNEL, g, "the waker's NOIO scope does not follow to kswapd");
                }
                one.free();
                hog.free();
            }
            cache.drop();
        } finally {
            pages.close();
            platform.close();
        }
    }

    @Test
    void fruitlessKswapdStopsAnsweringWakeUpsUntilPagesReachHigh() {
        RealPlatform platform = new RealPlatform();
        int retries = 2;
        PageAllocator pages = PageAllocator.builder(platform).name("tired").totalPages(128).watermarks(MIN, LOW, HIGH)
                .reclaimRetries(retries).retryBackoff(Duration.ofMillis(1)).build();
        try {
            pages.startBackgroundReclaim();
            PageCache empty = new PageCache("empty");
            try (ShrinkerRegistration r = pages.registerShrinker(empty)) {
                Pages hog = hogTo(pages, MIN);
                for (int i = 0; i < retries + 3; i++) {
                    assertNull(pages.tryAllocate(1, Gfp.NOWAIT));
                    untilKswapdIdle(pages);
                }
                assertEquals(retries, pages.stats().kswapdWakeups(),
                        "after " + retries + " fruitless runs kswapd ignores wake-ups");
                hog.free(); // free pages back to high: kswapd gets another chance
                hog = hogTo(pages, MIN);
                assertNull(pages.tryAllocate(1, Gfp.NOWAIT));
                untilKswapdIdle(pages);
                assertEquals(retries + 1, pages.stats().kswapdWakeups());
                hog.free();
            }
        } finally {
            pages.close();
            platform.close();
        }
    }

    @Test
    void lifecycle() {
        RealPlatform platform = new RealPlatform();
        PageAllocator pages = PageAllocator.builder(platform).name("life").totalPages(64).build();
        try {
            assertNull(pages.kswapdTask());
            pages.startBackgroundReclaim();
            Task k = pages.kswapdTask();
            assertNotNull(k);
            assertTrue(platform.tasks().contains(k));
            assertThrows(IllegalStateException.class, pages::startBackgroundReclaim);
            pages.close();
            assertTrue(k.hasExited(), "close waits for kswapd to exit");
            assertNull(k.failure());
            assertNull(pages.kswapdTask());
            assertThrows(IllegalStateException.class, pages::startBackgroundReclaim);
            pages.close(); // idempotent
            pages.allocate(1, Gfp.KERNEL).free(); // the allocator itself still works
        } finally {
            pages.close();
            platform.close();
        }
    }
}
