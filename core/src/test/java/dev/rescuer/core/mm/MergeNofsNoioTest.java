package dev.rescuer.core.mm;

import dev.rescuer.core.platform.RealPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The allocator's merge-nofs-noio setting (Patocka's proposal): its effect on current_gfp_context and on what reclaim sees. */
class MergeNofsNoioTest {

    private final RealPlatform platform = new RealPlatform();

    @AfterEach
    void close() {
        platform.close();
    }

    private PageAllocator allocator(boolean merge) {
        return PageAllocator.builder(platform).totalPages(64).watermarks(8, 10, 12).reclaimRetries(0)
                .retryBackoff(java.time.Duration.ofMillis(1)).mergeNofsNoio(merge).build();
    }

    @Test
    void withoutTheMergeNofsKeepsIo() {
        PageAllocator pages = allocator(false);
        assertFalse(pages.mergeNofsNoio());
        assertSame(Gfp.NOFS, pages.currentGfpContext(Gfp.NOFS));
        try (MemallocScope s = MemallocScope.nofs(platform)) {
            assertSame(Gfp.NOFS, pages.currentGfpContext(Gfp.KERNEL));
        }
        assertSame(Gfp.KERNEL, pages.currentGfpContext(Gfp.KERNEL));
    }

    @Test
    void withTheMergeEveryNofsContextAlsoClearsIo() {
        PageAllocator pages = allocator(true);
        assertSame(Gfp.NOIO, pages.currentGfpContext(Gfp.NOFS), "GFP_NOFS is GFP_NOIO");
        try (MemallocScope s = MemallocScope.nofs(platform)) {
            assertSame(Gfp.NOIO, pages.currentGfpContext(Gfp.KERNEL), "a NOFS scope is a NOIO scope");
        }
        assertSame(Gfp.KERNEL, pages.currentGfpContext(Gfp.KERNEL), "GFP_KERNEL outside scopes is unchanged");
        assertSame(Gfp.NOIO, pages.currentGfpContext(Gfp.NOIO));
        assertSame(Gfp.NOWAIT, pages.currentGfpContext(Gfp.NOWAIT));
    }

    /** Reclaim from a GFP_NOFS allocation sees __GFP_IO only without the merge. */
    @Test
    void shrinkersSeeTheMergedContext() {
        for (boolean merge : new boolean[] {false, true}) {
            PageAllocator pages = allocator(merge);
            List<Gfp> seen = new ArrayList<>();
            ShrinkerRegistration reg = pages.registerShrinker(new Shrinker() {
                @Override
                public String name() {
                    return "recorder";
                }

                @Override
                public long count(ShrinkControl sc) {
                    seen.add(sc.gfp());
                    return 0;
                }

                @Override
                public long scan(ShrinkControl sc) {
                    return 0;
                }
            });
            Pages hog = pages.allocate((int) (pages.freePages() - pages.minWatermark()), Gfp.KERNEL);
            // RETRY_MAYFAIL: a plain order-0 GFP_NOFS allocation is too small to fail and would retry for ever.
            Gfp nofs = Gfp.NOFS.with(Gfp.Modifier.NOWARN, Gfp.Modifier.RETRY_MAYFAIL);
            assertEquals(null, pages.tryAllocate(1, nofs));
            assertEquals(merge ? Gfp.NOIO.with(Gfp.Modifier.NOWARN, Gfp.Modifier.RETRY_MAYFAIL) : nofs, seen.get(0), "merge=" + merge);
            hog.close();
            reg.close();
            pages.close();
        }
    }
}
