package dev.rescuer.core.mm;

import dev.rescuer.core.platform.Bounded;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.mm.PageAllocatorTest.MIN;
import static dev.rescuer.core.mm.PageAllocatorTest.hogTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShrinkerRegistration}: unregistering stops the calls, waits for running passes, and refuses to wait for itself. */
class ShrinkerRegistrationTest {

    private RealPlatform platform;
    private PageAllocator pages;
    private Pages hog;

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        pages = PageAllocator.builder(platform).totalPages(128).watermarks(MIN, 24, 32)
                .reclaimRetries(0).retryBackoff(Duration.ofMillis(1)).build();
    }

    @AfterEach
    void tearDown() {
        if (hog != null) {
            hog.close();
        }
        pages.close();
        platform.close();
    }

    /** Runs one allocation that must reclaim (free pages are at min and the request is NORETRY). */
    private Pages reclaimingAllocation() {
        return pages.tryAllocate(4, Gfp.KERNEL.with(Gfp.Modifier.NORETRY));
    }

    @Test
    void closeUnregistersSoTheShrinkerIsNeverCalledAgain() {
        PageCache cache = new PageCache("cache").fill(pages, 30);
        ShrinkerRegistration r = pages.registerShrinker(cache);
        assertSame(cache, r.shrinker());
        hog = hogTo(pages, MIN);
        Pages first = reclaimingAllocation();
        assertTrue(cache.scans.get() > 0);
        first.free();
        hog.free();
        hog = hogTo(pages, MIN);

        r.close();
        int counts = cache.counts.get();
        int scans = cache.scans.get();
        assertNull(reclaimingAllocation(), "with the only shrinker gone nothing can be reclaimed");
        assertEquals(counts, cache.counts.get());
        assertEquals(scans, cache.scans.get());
        r.close(); // closing twice is harmless
        cache.drop();
    }

    @Test
    void closingFromInsideItsOwnScanThrowsInsteadOfDeadlocking() {
        PageCache cache = new PageCache("self-unregistering").fill(pages, 30);
        ShrinkerRegistration r = pages.registerShrinker(cache);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        cache.onScan = sc -> {
            try {
                r.close();
            } catch (Throwable e) {
                thrown.set(e);
            }
        };
        hog = hogTo(pages, MIN);
        Pages got = reclaimingAllocation();
        assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
        assertTrue(thrown.get().getMessage().contains("deadlock"), thrown.get().getMessage());
        assertEquals(4, got.count(), "the reclaim pass itself carried on");
        got.free();

        cache.onScan = sc -> { };
        r.close(); // from outside a pass it works, and then the shrinker stays quiet
        int scans = cache.scans.get();
        hog.free();
        hog = hogTo(pages, MIN);
        assertNull(reclaimingAllocation());
        assertEquals(scans, cache.scans.get());
        cache.drop();
    }

    @Test
    void closeWaitsForAReclaimPassThatIsRunningTheShrinker() {
        PageCache cache = new PageCache("slow").fill(pages, 30);
        Completion writebackDone = new Completion(platform, "writeback-done");
        AtomicBoolean inScan = new AtomicBoolean();
        cache.onScan = sc -> {
            inScan.set(true);
            writebackDone.waitFor();
            inScan.set(false);
        };
        ShrinkerRegistration r = pages.registerShrinker(cache);
        hog = hogTo(pages, MIN);
        AtomicLong seq = new AtomicLong();
        AtomicReference<Pages> got = new AtomicReference<>();
        AtomicBoolean scanRunningWhenCloseReturned = new AtomicBoolean(true);
        DrivenTask allocator = new DrivenTask(platform, "allocator", seq);
        DrivenTask unregisterer = new DrivenTask(platform, "unregisterer", seq);
        try {
            DrivenTask.Op alloc;
            DrivenTask.Op close;
            try {
                alloc = allocator.runUntilBlocked(() -> got.set(reclaimingAllocation()), writebackDone);
                close = unregisterer.submit(() -> {
                    r.close();
                    scanRunningWhenCloseReturned.set(inScan.get());
                });
                Bounded.untilBlocked(unregisterer.task(), Bounded.primitive("rwsem", "pages/shrinker_rwsem"),
                        "shrinker_rwsem", close);
                assertTrue(inScan.get());
                assertFalse(close.isDone(), "unregister returned while a pass was still running the shrinker");
            } finally {
                writebackDone.completeAll();
            }
            DrivenTask.awaitDone(alloc);
            DrivenTask.awaitDone(close);
            DrivenTask.rethrow(alloc);
            DrivenTask.rethrow(close);
            assertFalse(scanRunningWhenCloseReturned.get(), "unregister returned while the scan was still running");
        } finally {
            Bounded.closeUnlessBlocked(unregisterer);
            Bounded.closeUnlessBlocked(allocator);
        }
        got.get().free();
        int scans = cache.scans.get();
        hog.free();
        hog = hogTo(pages, MIN);
        assertNull(reclaimingAllocation());
        assertEquals(scans, cache.scans.get());
        cache.drop();
    }

    @Test
    void aShrinkerReturningANegativeCountOtherThanStopIsAnError() {
        Shrinker broken = new Shrinker() {
            @Override public String name() { return "broken"; }
            @Override public long count(ShrinkControl control) { return 1; }
            @Override public long scan(ShrinkControl control) { return -7; }
        };
        try (ShrinkerRegistration r = pages.registerShrinker(broken)) {
            hog = hogTo(pages, MIN);
            IllegalStateException e = assertThrows(IllegalStateException.class, this::reclaimingAllocation);
            assertTrue(e.getMessage().contains("broken"), e.getMessage());
            assertEquals(0, platform.currentTask().memallocFlags(), "the reclaim scope was closed on the way out");
            assertTrue(platform.currentTask().heldPrimitives().isEmpty(), "shrinker_rwsem was released on the way out");
        }
        assertThrows(NullPointerException.class, () -> pages.registerShrinker(null));
    }
}
