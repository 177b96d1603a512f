package dev.rescuer.storage.swap;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.Reclaimer;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.storage.block.Disk;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Swap-out on real threads: memory is full of a process's anonymous pages and nothing else is
 * reclaimable; an allocation gets memory only if its reclaim may swap, that is with {@code __GFP_IO}
 * (and {@code __GFP_FS} for a swap file). With merge-nofs-noio, GFP_NOFS loses that: Chinner's cost.
 */
class SwapAreaTest {

    /** 256 pages, no kswapd, no reclaim retries: an allocation gets memory from its own reclaim or fails. */
    private static RescuerSystem system(boolean merge) {
        return RescuerSystem.builder().totalPages(256).watermarks(16, 20, 24).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).backgroundReclaim(false).pagesPerThread(0).mergeNofsNoio(merge).build();
    }

    /** Allocates one page with {@code gfp} with memory full of anonymous pages; returns the pages swapped for it. */
    private static long swappedFor(Gfp gfp, boolean merge, boolean swapFile, boolean expectSuccess) {
        try (RescuerSystem sys = system(merge)) {
            Disk swapDisk = new Disk(sys.platform(), "sdb", 1024, Duration.ofMillis(1), 8);
            SwapArea area = new SwapArea(swapDisk, swapFile);
            AnonMemory hog = new AnonMemory(sys.pages(), "hog");
            area.add(hog);
            ShrinkerRegistration reg = sys.pages().registerShrinker(area);
            try {
                while (sys.pages().freePages() > sys.pages().minWatermark()) {
                    assertTrue(hog.fault(Gfp.NOWAIT.with(Gfp.Modifier.NOWARN)));
                }
                assertEquals(0, area.pagesSwapped(), "filling memory swapped nothing (NOWAIT never reclaims)");
                // RETRY_MAYFAIL: where swapping cannot help, a plain IO-less allocation would be too small to fail.
                Pages p = sys.pages().tryAllocate(1, gfp.with(Gfp.Modifier.NOWARN, Gfp.Modifier.RETRY_MAYFAIL));
                if (expectSuccess) {
                    assertNotNull(p, gfp + " merge=" + merge + " swapFile=" + swapFile + " should get memory by swapping");
                    assertEquals(area.pagesSwapped(), hog.swapped());
                    Reclaimer who = gfp.mayFs() ? Reclaimer.DIRECT_FS : Reclaimer.DIRECT_NOFS;
                    assertEquals(Map.of(area.name(), Map.of(who, area.pagesSwapped())), sys.pages().reclaimed(),
                            "every page swapped is counted once, for the allocating task's direct reclaim in its context");
                    p.free();
                } else {
                    assertNull(p, gfp + " merge=" + merge + " swapFile=" + swapFile + " should not get memory");
                }
                return area.pagesSwapped();
            } finally {
                reg.close();
                hog.release();
                assertEquals(0, area.slotsUsed());
            }
        }
    }

    @Test
    void gfpKernelSwaps() {
        assertTrue(swappedFor(Gfp.KERNEL, false, false, true) > 0);
    }

    @Test
    void gfpNoioNeverSwaps() {
        assertEquals(0, swappedFor(Gfp.NOIO, false, false, false));
    }

    @Test
    void gfpNofsSwapsToADevice() {
        assertTrue(swappedFor(Gfp.NOFS, false, false, true) > 0);
    }

    @Test
    void gfpNofsDoesNotSwapToAFile() {
        assertEquals(0, swappedFor(Gfp.NOFS, false, true, false));
    }

    /** Patocka's merge: GFP_NOFS becomes GFP_NOIO, and reclaim for it can no longer swap. */
    @Test
    void withMergeNofsNoioGfpNofsCannotSwap() {
        assertEquals(0, swappedFor(Gfp.NOFS, true, false, false));
        assertTrue(swappedFor(Gfp.KERNEL, true, false, true) > 0, "GFP_KERNEL still swaps under the merge");
    }

    /** A swapped page faults back in: its slot is read and freed, and the page is resident again. */
    @Test
    void swapInReadsTheSlotBackAndFreesIt() {
        try (RescuerSystem sys = system(false)) {
            Disk swapDisk = new Disk(sys.platform(), "sdb", 1024, Duration.ofMillis(1), 8);
            SwapArea area = new SwapArea(swapDisk, false);
            AnonMemory app = new AnonMemory(sys.pages(), "app");
            area.add(app);
            ShrinkerRegistration reg = sys.pages().registerShrinker(area);
            try {
                assertTrue(app.fault(Gfp.KERNEL));
                assertTrue(app.fault(Gfp.KERNEL));
                assertFalse(app.swapIn(Gfp.KERNEL), "nothing is swapped out yet");
                while (sys.pages().freePages() > sys.pages().minWatermark()) {
                    assertTrue(app.fault(Gfp.NOWAIT.with(Gfp.Modifier.NOWARN)));
                }
                Pages p = sys.pages().tryAllocate(1, Gfp.KERNEL);
                assertNotNull(p);
                long out = area.pagesSwapped();
                assertTrue(out > 0);
                assertEquals(out, area.slotsUsed());
                int resident = app.resident();
                p.free();
                assertTrue(app.swapIn(Gfp.KERNEL));
                assertEquals(1, area.pagesSwappedIn());
                assertEquals(out - 1, area.slotsUsed(), "the slot read back is free again");
                assertEquals(out - 1, app.swapped());
                assertEquals(resident + 1, app.resident());
            } finally {
                reg.close();
                app.release();
                assertEquals(0, area.slotsUsed(), "release gives every slot back");
            }
        }
    }

    @Test
    void aSwapAreaMustFitItsDevice() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(64).build()) {
            Disk d = new Disk(sys.platform(), "sdb", 64, Duration.ofMillis(1), 8);
            assertEquals("swap area sw on sdb: 0 pages; it must hold at least one and at most 2147483647",
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new SwapArea("sw", d, 0, 0, false)).getMessage());
            assertEquals("swap area sw: 9 pages from sector 0 reach past the end of sdb (64 sectors)",
                    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new SwapArea("sw", d, 0, 9, false)).getMessage());
        }
    }
}
