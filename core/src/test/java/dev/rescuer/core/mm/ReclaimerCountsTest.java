package dev.rescuer.core.mm;

import dev.rescuer.core.platform.RealPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PageAllocator#reclaimed}: what each shrinker freed is counted for the reclaimer that ran the
 * pass (direct reclaim split by the effective context, merge-nofs-noio applied), and nothing else is.
 */
class ReclaimerCountsTest {

    private final RealPlatform platform = new RealPlatform();

    @AfterEach
    void close() {
        platform.close();
    }

    /** A shrinker over pages it holds, which frees them in any context. */
    private static final class Cache implements Shrinker {
        private final ArrayDeque<Pages> held = new ArrayDeque<>();

        @Override
        public String name() {
            return "cache";
        }

        @Override
        public synchronized long count(ShrinkControl sc) {
            return held.size();
        }

        @Override
        public synchronized long scan(ShrinkControl sc) {
            long n = 0;
            while (n < sc.nrToScan() && !held.isEmpty()) {
                held.poll().close();
                n++;
            }
            return n;
        }
    }

    /**
     * Fills memory to the min watermark with cache pages, then allocates one page with {@code gfp}
     * (no kswapd: the allocator's own background reclaim is not started); returns the counts.
     */
    private Map<String, Map<Reclaimer, Long>> reclaimFor(Gfp gfp, boolean merge) {
        PageAllocator pages = PageAllocator.builder(platform).totalPages(64).watermarks(8, 10, 12).reclaimRetries(0)
                .retryBackoff(java.time.Duration.ofMillis(1)).mergeNofsNoio(merge).build();
        try {
            Cache cache = new Cache();
            ShrinkerRegistration reg = pages.registerShrinker(cache);
            while (pages.freePages() > pages.minWatermark()) {
                cache.held.add(pages.allocate(1, Gfp.NOWAIT));
            }
            assertTrue(pages.reclaimed().isEmpty(), "filling memory reclaimed nothing");
            int before = cache.held.size();
            Pages p = pages.tryAllocate(1, gfp);
            assertNotNull(p, gfp + " got a page by reclaiming the cache");
            p.close();
            reg.close();
            long freed = before - cache.held.size();
            assertTrue(freed > 0, "the cache gave pages back");
            Map<String, Map<Reclaimer, Long>> counts = pages.reclaimed();
            assertEquals(freed, counts.get("cache").values().stream().mapToLong(Long::longValue).sum(),
                    "every page the cache freed is counted once");
            assertEquals(freed, java.util.Arrays.stream(Reclaimer.values()).mapToLong(pages::reclaimed).sum(),
                    "the per-reclaimer totals add up to the same");
            return counts;
        } finally {
            pages.close();
        }
    }

    @Test
    void directReclaimIsCountedByItsContext() {
        assertEquals(Set.of(Reclaimer.DIRECT_FS), reclaimFor(Gfp.KERNEL, false).get("cache").keySet());
        assertEquals(Set.of(Reclaimer.DIRECT_NOFS), reclaimFor(Gfp.NOFS, false).get("cache").keySet());
        assertEquals(Set.of(Reclaimer.DIRECT_NOIO), reclaimFor(Gfp.NOIO, false).get("cache").keySet());
    }

    @Test
    void underTheMergeNofsReclaimIsNoioReclaim() {
        assertEquals(Set.of(Reclaimer.DIRECT_NOIO), reclaimFor(Gfp.NOFS, true).get("cache").keySet());
        assertEquals(Set.of(Reclaimer.DIRECT_FS), reclaimFor(Gfp.KERNEL, true).get("cache").keySet());
    }
}
