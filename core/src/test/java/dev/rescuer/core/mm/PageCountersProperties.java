package dev.rescuer.core.mm;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Headline: <b>the page counters balance.</b> Random allocations in every context and random partial
 * and full frees, with a shrinker that frees pages it holds, never lose or invent a page:
 * {@code freePages + usedPages == totalPages}, {@code pagesAllocated - pagesFreed == usedPages}, the
 * used count equals what the live handles still hold, and freeing everything restores the budget.
 */
class PageCountersProperties {

    private static final Gfp[] GFPS = {Gfp.KERNEL, Gfp.NOFS, Gfp.NOIO, Gfp.NOWAIT, Gfp.ATOMIC};
    private static final int TOTAL = 256;

    /** One step: kind 0-3 allocate, 4-5 partial free, 6-7 full free, 8 give to the cache, 9 close. */
    record Op(int kind, int n, int gfp, int pick, boolean noioScope) {
        @Override
        public String toString() {
            String[] names = {"alloc", "alloc", "alloc", "alloc", "freePart", "freePart", "free", "free", "toCache", "close"};
            return names[kind] + "(" + n + "," + GFPS[gfp] + "," + pick + (noioScope ? ",noio" : "") + ")";
        }
    }

    @Provide
    Arbitrary<List<Op>> operations() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(1, 24),
                Arbitraries.integers().between(0, GFPS.length - 1),
                Arbitraries.integers().between(0, 1 << 20),
                Arbitraries.integers().between(0, 4).map(i -> i == 0)).as(Op::new);
        return op.list().ofMinSize(150).ofMaxSize(300);
    }

    private static PageAllocator allocator(RealPlatform platform) {
        return PageAllocator.builder(platform).totalPages(TOTAL).watermarks(16, 24, 40)
                .reclaimRetries(1).retryBackoff(Duration.ofMillis(1)).shrinkBatch(8).build();
    }

    private static void assertBalanced(PageAllocator a, List<Pages> held, PageCache cache) {
        PageStats s = a.stats();
        assertEquals(s.totalPages(), s.freePages() + s.usedPages(), s.toString());
        assertEquals(s.usedPages(), s.pagesAllocated() - s.pagesFreed(), s.toString());
        long live = cache.size();
        for (Pages p : held) {
            live += p.remaining();
        }
        assertEquals(live, s.usedPages(), "used pages must be what the live handles hold: " + s);
    }

    /** Applies one random step; returns +1 for a successful allocation, -1 for a failed one, 0 otherwise. */
    private static int step(PageAllocator pages, RealPlatform platform, List<Pages> held, PageCache cache,
                            int kind, int n, Gfp gfp, int pick, boolean noio) {
        if (kind <= 3 || held.isEmpty()) {
            Pages p;
            // One task, so nobody else frees: an IO-less allocation that is too small to fail would
            // retry for ever. RETRY_MAYFAIL lets every sleeping context fail once reclaim gives up.
            gfp = gfp.mayDirectReclaim() ? gfp.with(Gfp.Modifier.RETRY_MAYFAIL) : gfp;
            try (MemallocScope s = noio ? MemallocScope.noio(platform) : null) {
                if ((pick & 1) == 0) {
                    p = pages.tryAllocate(n, gfp);
                } else {
                    try {
                        p = pages.allocate(n, gfp);
                    } catch (PageAllocationException e) {
                        p = null;
                    }
                }
            }
            if (p == null) {
                return -1;
            }
            assertEquals(n, p.count());
            held.add(p);
            return 1;
        }
        int i = pick % held.size();
        Pages p = held.get(i);
        switch (kind) {
            case 4, 5 -> {
                int part = 1 + pick % p.remaining();
                p.free(part);
            }
            case 6, 7 -> p.free();
            case 8 -> cache.adopt(p);
            default -> p.close();
        }
        if (kind >= 6 || p.remaining() == 0) {
            held.remove(i);
        }
        return 0;
    }

    @Property(tries = 25)
    void countersBalanceUnderRandomAllocationAndFree(@ForAll("operations") List<Op> ops) {
        RealPlatform platform = new RealPlatform();
        PageAllocator pages = allocator(platform);
        PageCache cache = new PageCache("cache");
        List<Pages> held = new ArrayList<>();
        long ok = 0;
        long failed = 0;
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            for (Op op : ops) {
                int outcome = step(pages, platform, held, cache, op.kind(), op.n(), GFPS[op.gfp()], op.pick(), op.noioScope());
                ok += outcome > 0 ? 1 : 0;
                failed += outcome < 0 ? 1 : 0;
                assertBalanced(pages, held, cache);
            }
            PageStats s = pages.stats();
            assertEquals(ok, s.allocations());
            assertEquals(failed, s.failures());
            for (Pages p : held) {
                p.close();
            }
            held.clear();
            cache.drop();
            s = pages.stats();
            assertEquals(TOTAL, s.freePages(), s.toString());
            assertEquals(0, s.usedPages());
            assertEquals(s.pagesAllocated(), s.pagesFreed());
        } finally {
            pages.close();
            platform.close();
        }
    }

    @Property(tries = 4)
    void countersBalanceWithFourThreadsAndKswapd(@ForAll long seed) {
        RealPlatform platform = new RealPlatform();
        PageAllocator pages = allocator(platform);
        PageCache cache = new PageCache("shared-cache");
        List<List<Pages>> perThread = new ArrayList<>();
        List<Task> workers = new ArrayList<>();
        try (ShrinkerRegistration r = pages.registerShrinker(cache)) {
            pages.startBackgroundReclaim();
            for (int t = 0; t < 4; t++) {
                List<Pages> held = new ArrayList<>();
                perThread.add(held);
                Random rnd = new Random(seed * 31 + t);
                workers.add(platform.startThread("mm-worker/" + t, () -> {
                    for (int i = 0; i < 1000; i++) {
                        int kind = held.size() > 12 ? 4 + rnd.nextInt(6) : rnd.nextInt(10);
                        step(pages, platform, held, cache, kind, 1 + rnd.nextInt(16), GFPS[rnd.nextInt(GFPS.length)],
                                rnd.nextInt(1 << 20), rnd.nextInt(5) == 0);
                    }
                }));
            }
            for (Task w : workers) {
                platform.join(w);
                assertNull(w.failure(), () -> w + " failed: " + w.failure());
            }
            pages.close(); // stop kswapd: the counters are compared at quiescence
            List<Pages> all = new ArrayList<>();
            perThread.forEach(all::addAll);
            assertBalanced(pages, all, cache);
            PageStats s = pages.stats();
            assertTrue(s.allocations() > 0);
            for (Pages p : all) {
                p.close();
            }
            cache.drop();
            s = pages.stats();
            assertEquals(TOTAL, s.freePages(), s.toString());
            assertEquals(0, s.usedPages());
            assertEquals(s.pagesAllocated(), s.pagesFreed());
        } finally {
            pages.close();
            platform.close();
        }
    }
}
