package dev.rescuer.core;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.wq.WorkQueue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RescuerSystem}: wiring the page allocator to the platform, kswapd's cost, ownership on close. */
class RescuerSystemTest {

    @Test
    void defaultsWireAnAllocatorAndAKswapdThatPaysForItsStack() {
        RescuerSystem sys = RescuerSystem.builder().withoutWorkqueues().build();
        Task kswapd;
        PageAllocator pages = sys.pages();
        try {
            assertTrue(sys.platform() instanceof RealPlatform);
            assertEquals(65_536, pages.totalPages());
            assertEquals(4, sys.pagesPerThread());
            kswapd = pages.kswapdTask();
            assertNotNull(kswapd, "background reclaim is on by default");
            assertEquals("kswapd/pages", kswapd.name());
            assertEquals(65_536 - 4, pages.freePages(), "kswapd's stack is charged to the budget");
        } finally {
            sys.close();
        }
        assertTrue(kswapd.hasExited(), "close stops kswapd");
        assertNull(pages.kswapdTask());
        assertEquals(65_536, pages.freePages(), "kswapd's pages come back when close has joined it");
        assertThrows(IllegalStateException.class, () -> sys.platform().newTimer("t", () -> { }).arm(Duration.ZERO),
                "the system closed the platform it created");
    }

    @Test
    void aSuppliedPlatformIsChargedButNotClosed() {
        RealPlatform platform = new RealPlatform();
        try {
            try (RescuerSystem sys = RescuerSystem.builder().platform(platform).withoutWorkqueues().totalPages(256).pagesPerThread(2)
                    .backgroundReclaim(false).build()) {
                assertSame(platform, sys.platform());
                assertNull(sys.pages().kswapdTask());
                assertEquals(256, sys.pages().freePages());
                Task t = platform.startThread("charged", () -> { });
                platform.join(t);
                assertEquals(1, sys.pages().stats().allocations(), "threads of the supplied platform cost pages");
                assertEquals(2, sys.pages().stats().pagesAllocated());
                assertThrows(IllegalStateException.class,
                        () -> RescuerSystem.builder().platform(platform).withoutWorkqueues().totalPages(64).backgroundReclaim(false).build(),
                        "one platform carries one system's thread-start cost");
            }
            assertDoesNotThrow(() -> platform.newTimer("still-open", () -> { }).arm(Duration.ofHours(1)),
                    "closing the system leaves a supplied platform open");
        } finally {
            platform.close();
        }
    }

    @Test
    void watermarksAndRetriesReachTheAllocator() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(100).watermarks(10, 20, 30).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).pagesPerThread(0).backgroundReclaim(false).build()) {
            PageAllocator pages = sys.pages();
            assertEquals(10, pages.minWatermark());
            assertEquals(20, pages.lowWatermark());
            assertEquals(30, pages.highWatermark());
            assertEquals(0, sys.pagesPerThread());
            var hog = pages.allocate(90, Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC));
            assertNull(pages.tryAllocate(1, Gfp.KERNEL));
            assertEquals(1, pages.stats().directReclaims(), "reclaimRetries(0): one fruitless pass, then failure");
            hog.free();
            Task t = sys.platform().startThread("free-thread", () -> { });
            sys.platform().join(t);
            assertEquals(0, pages.stats().usedPages(), "pagesPerThread(0) makes threads free");
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> RescuerSystem.builder().totalPages(1));
        assertThrows(IllegalArgumentException.class, () -> RescuerSystem.builder().pagesPerThread(-1));
        assertThrows(IllegalArgumentException.class, () -> RescuerSystem.builder().reclaimRetries(-1));
        assertThrows(IllegalArgumentException.class, () -> RescuerSystem.builder().watermarks(-1, 0, 0));
        assertThrows(NullPointerException.class, () -> RescuerSystem.builder().platform(null));
        assertThrows(IllegalArgumentException.class,
                () -> RescuerSystem.builder().totalPages(64).watermarks(8, 4, 16).build());
        assertThrows(IllegalArgumentException.class,
                () -> RescuerSystem.builder().totalPages(64).pagesPerThread(65).build());
        assertThrows(IllegalArgumentException.class,
                () -> RescuerSystem.builder().totalPages(64).retryBackoff(Duration.ZERO).build());
    }

    @Test
    void aBuildThatFailsLeavesASuppliedPlatformReusable() {
        RealPlatform platform = new RealPlatform();
        try {
            // kswapd cannot pay for its stack: 8 pages of 8 would leave less than min free.
            ThreadStartException e = assertThrows(ThreadStartException.class,
                    () -> RescuerSystem.builder().platform(platform).totalPages(8).watermarks(1, 1, 2).pagesPerThread(8)
                            .reclaimRetries(0).retryBackoff(Duration.ofMillis(1)).build());
            assertTrue(e.getMessage().contains("kswapd/pages"), e.getMessage());
            Task t = platform.startThread("after-failed-build", () -> { });
            platform.join(t);
            try (RescuerSystem sys = RescuerSystem.builder().platform(platform).withoutWorkqueues().totalPages(64).backgroundReclaim(false).build()) {
                assertEquals(64, sys.pages().freePages());
            }
        } finally {
            platform.close();
        }
    }

    @Test
    void theAllocatorBlocksThroughTheSystemsPlatform() {
        try (RescuerSystem sys = RescuerSystem.builder().withoutWorkqueues().totalPages(64).backgroundReclaim(false).build()) {
            Platform p = sys.platform();
            assertSame(p, sys.pages().platform());
        }
    }

    @Test
    void byDefaultTheWorkqueueSubsystemStartsAndEveryThreadItStartsIsCharged() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(2).pagesPerThread(4).build()) {
            assertFalse(sys.workqueues().systemWq().hasRescuer());
            assertEquals(6, sys.workqueues().queues().size(), "the six system queues");
            long charged = sys.platform().tasks().stream()
                    .filter(t -> !t.isAdopted() && !t.name().startsWith("timer/"))
                    .count();
            // kswapd, kthreadd, a worker for each of 2x2 per-CPU pools and 2 unbound pools, 2 softirq contexts
            assertEquals(10, charged, sys.platform().tasks().toString());
            assertEquals(4096 - 4 * charged, sys.pages().freePages());
        }
    }

    @Test
    void aSystemGivenMaxSpinZeroMakesItsOwnPlatformRunsItsWorkAndClosesThePlatform() {
        RescuerSystem sys = RescuerSystem.builder().cpus(2).maxSpin(Duration.ZERO).build();
        try {
            assertTrue(sys.platform() instanceof RealPlatform);
            WorkQueue wq = sys.workqueues().create("no-spin", 0);
            AtomicInteger ran = new AtomicInteger();
            for (int i = 0; i < 1000; i++) {
                wq.execute(ran::incrementAndGet);
            }
            wq.destroy();
            assertEquals(1000, ran.get(), "every accepted item ran before destroy returned");
        } finally {
            sys.close();
        }
        assertThrows(IllegalStateException.class, () -> sys.platform().newTimer("t", () -> { }).arm(Duration.ZERO),
                "the system's own platform was closed with it");
    }

    @Test
    void aSpinBoundOutsideTheRangeIsRefusedByBuildAndOneBesideAGivenPlatformToo() {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> RescuerSystem.builder().withoutWorkqueues().maxSpin(Duration.ofMillis(1)).build());
        assertEquals("maxSpin must be zero (no spin) or from 2500 to 80000 ns, got 1000000 ns", bad.getMessage());
        try (RealPlatform mine = new RealPlatform()) {
            IllegalStateException both = assertThrows(IllegalStateException.class,
                    () -> RescuerSystem.builder().platform(mine).maxSpin(Duration.ZERO).build());
            assertEquals("maxSpin applies to the system's own RealPlatform, but a platform was given with "
                    + "platform(...): bound its spin where it is made", both.getMessage());
        }
        assertThrows(NullPointerException.class, () -> RescuerSystem.builder().maxSpin(null));
    }
}
