package dev.rescuer.core.mm;

import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Bounded;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * Headline: <b>a mempool guarantees forward progress under exhaustion.</b> With the page allocator
 * exhausted, a sleeping allocation is served from the reserve; once the reserve is empty it waits (it
 * never fails) and is served by the next element freed back.
 */
class MempoolTest {

    private static final int TOTAL = 64;
    private static final int PER_ELEMENT = 2;
    private static final int MIN_NR = 2;

    private RealPlatform platform;
    private PageAllocator pages;
    private final List<Pages> hogs = new ArrayList<>();
    private final AtomicLong seq = new AtomicLong();

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        pages = PageAllocator.builder(platform).name("mp").totalPages(TOTAL).watermarks(4, 6, 8)
                .reclaimRetries(1).retryBackoff(Duration.ofMillis(1)).build();
    }

    @AfterEach
    void tearDown() {
        hogs.forEach(Pages::close);
        pages.close();
        platform.close();
    }

    /** Source of 2-page elements that records the contexts it was asked to allocate in. */
    private final class PageSource implements Mempool.Source<Pages> {
        final List<Gfp> asked = new CopyOnWriteArrayList<>();

        @Override
        public Pages allocate(Gfp gfp) {
            asked.add(gfp);
            return pages.tryAllocate(PER_ELEMENT, gfp);
        }

        @Override
        public void free(Pages element) {
            element.free();
        }
    }

    /** Takes every free page, reserves included. */
    private void exhaust() {
        long free = pages.freePages();
        if (free > 0) {
            hogs.add(pages.allocate((int) free, Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC)));
        }
        assertEquals(0, pages.freePages());
    }

    @Test
    void createFillsTheReserveFromTheSource() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "bio", MIN_NR, PER_ELEMENT);
        assertEquals("bio", pool.name());
        assertEquals(MIN_NR, pool.minNr());
        assertEquals(MIN_NR, pool.reserved());
        assertEquals(0, pool.outstanding());
        assertEquals(TOTAL - MIN_NR * PER_ELEMENT, pages.freePages());
        pool.destroy();
        assertEquals(TOTAL, pages.freePages(), "destroy gives the reserve back");
    }

    @Test
    void withMemoryAvailableTheSourceIsTriedFirstWithoutDirectReclaimOrIo() {
        PageSource source = new PageSource();
        Mempool<Pages> pool = Mempool.create(platform, "src", MIN_NR, source);
        source.asked.clear();
        Pages e = pool.allocate(Gfp.KERNEL);
        assertEquals(MIN_NR, pool.reserved(), "the reserve is kept for when the source fails");
        assertEquals(1, pool.outstanding());
        Gfp first = source.asked.get(0);
        assertFalse(first.mayDirectReclaim(), first.toString());
        assertFalse(first.mayIo(), first.toString());
        assertTrue(first.has(Gfp.Modifier.NOMEMALLOC), first.toString());
        assertTrue(first.has(Gfp.Modifier.NOWARN), first.toString());
        pool.free(e);
        assertEquals(MIN_NR, pool.reserved());
        assertEquals(TOTAL - MIN_NR * PER_ELEMENT, pages.freePages(), "a full reserve sends frees back to the source");
        pool.destroy();
    }

    @Test
    void underExhaustionTheReserveServesThenTheNextAllocationBlocksUntilAnElementIsFreed() {
        // A re-check interval beyond the test's patience: only the free's wake-up can end the wait.
        Mempool<Pages> pool = Mempool.create(platform, "bio", MIN_NR, new PageSource(), Duration.ofHours(1));
        exhaust();
        Pages a = pool.allocate(Gfp.KERNEL);
        Pages b = pool.allocate(Gfp.NOIO);
        assertNotNull(a);
        assertNotNull(b);
        assertEquals(0, pool.reserved());
        assertEquals(2, pool.outstanding());
        assertEquals(0, pages.freePages());

        AtomicReference<Pages> third = new AtomicReference<>();
        DrivenTask d = new DrivenTask(platform, "bio-submitter", seq);
        try {
            DrivenTask.Op op = d.submit(() -> third.set(pool.allocate(Gfp.KERNEL)));
            try {
                Bounded.untilBlocked(d.task(), Bounded.primitive("waitqueue", "mempool bio"), "the mempool's wait queue", op);
                assertEquals("mempool", d.task().waitingOn().lockClass());
                assertSame(pool, ((WaitQueue) d.task().waitingOn()).owner(), "the wait queue names its pool, for reports");
                assertFalse(op.isDone(), "a sleeping mempool allocation must wait, not fail");
            } finally {
                pool.free(a); // an I/O completes and gives its element back
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
        assertSame(a, third.get(), "the waiter got the element that was freed into the reserve");
        assertEquals(0, pool.reserved());
        assertEquals(2, pool.outstanding());
        pool.free(b);
        pool.free(third.get());
        assertEquals(MIN_NR, pool.reserved());
        pool.destroy();
        hogs.forEach(Pages::close);
        hogs.clear();
        assertEquals(TOTAL, pages.freePages());
    }

    @Test
    void freeRefillsTheReserveBeforeGivingBackToTheSource() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "refill", MIN_NR, PER_ELEMENT);
        Pages fromSource = pool.allocate(Gfp.KERNEL);
        assertEquals(MIN_NR, pool.reserved());
        exhaust();
        Pages r1 = pool.allocate(Gfp.KERNEL);
        Pages r2 = pool.allocate(Gfp.KERNEL);
        assertEquals(0, pool.reserved());
        hogs.forEach(Pages::close);
        hogs.clear();
        long free = pages.freePages();

        pool.free(fromSource);
        assertEquals(1, pool.reserved(), "the first free refills the reserve");
        assertEquals(free, pages.freePages());
        pool.free(r1);
        assertEquals(2, pool.reserved());
        assertEquals(free, pages.freePages());
        pool.free(r2);
        assertEquals(2, pool.reserved(), "the reserve is full");
        assertEquals(free + PER_ELEMENT, pages.freePages(), "so the element goes back to the source");
        pool.destroy();
        assertEquals(TOTAL, pages.freePages());
    }

    @Test
    void contextsThatMayNotSleepGetNullWhenEverythingIsExhausted() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "atomic", MIN_NR, PER_ELEMENT);
        exhaust();
        Pages a = pool.allocate(Gfp.ATOMIC);
        Pages b = pool.allocate(Gfp.NOWAIT);
        assertNotNull(a, "the reserve serves atomic callers too");
        assertNotNull(b);
        assertNull(pool.allocate(Gfp.NOWAIT));
        assertNull(pool.allocate(Gfp.ATOMIC));
        assertEquals(2, pool.outstanding(), "failed allocations are not counted");
        Task self = platform.currentTask();
        self.enterAtomic();
        try {
            assertNull(pool.allocate(Gfp.ATOMIC), "an atomic caller in atomic context gets null, no exception");
            assertThrows(AtomicContextException.class, () -> pool.allocate(Gfp.KERNEL));
        } finally {
            self.exitAtomic();
        }
        pool.free(a);
        pool.free(b);
        pool.destroy();
    }

    @Test
    void misuseIsReported() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "misuse", MIN_NR, PER_ELEMENT);
        Pages e = pool.allocate(Gfp.KERNEL);
        IllegalStateException outstanding = assertThrows(IllegalStateException.class, pool::destroy);
        assertTrue(outstanding.getMessage().contains("1 elements still allocated"), outstanding.getMessage());
        assertEquals(MIN_NR, pool.reserved(), "a refused destroy leaves the pool intact");
        pool.free(e);
        IllegalStateException over = assertThrows(IllegalStateException.class, () -> pool.free(pages.allocate(PER_ELEMENT, Gfp.KERNEL)));
        assertTrue(over.getMessage().contains("mempool misuse: free of an element it did not hand out"), over.getMessage());
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.free(e));
        assertTrue(twice.getMessage().contains("or that was freed already"), twice.getMessage());
        assertEquals(0, pool.outstanding());
        assertEquals(MIN_NR, pool.reserved());
        pool.free(null); // mempool_free(NULL) returns at once
        assertEquals(MIN_NR, pool.reserved());
        assertThrows(NullPointerException.class, () -> pool.allocate(null));
        pool.destroy();
        assertThrows(IllegalStateException.class, pool::destroy);
        assertThrows(IllegalStateException.class, () -> pool.allocate(Gfp.KERNEL));
        assertEquals(TOTAL - PER_ELEMENT, pages.freePages(), "only the element the pool refused is still out");

        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> Mempool.ofPages(pages, "neg", -1, 1));
        assertEquals("mempool neg: minNr must be >= 0, got -1", negative.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Mempool.ofPages(pages, "zero-pages", 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Mempool.ofPages(pages, " ", 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Mempool.create(platform, "r", 1, new PageSource(), Duration.ZERO));
    }

    @Test
    void createFailsCleanlyWhenTheReserveCannotBeFilled() {
        hogs.add(pages.allocate(TOTAL - 7, Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC)));
        assertEquals(7, pages.freePages());
        long usedBefore = pages.stats().usedPages();
        PageAllocationException e = assertThrows(PageAllocationException.class,
                () -> Mempool.ofPages(pages, "toobig", 4, PER_ELEMENT));
        assertTrue(e.getMessage().contains("toobig"), e.getMessage());
        assertTrue(e.getMessage().contains("of 4 elements"), e.getMessage());
        assertEquals(7, pages.freePages(), "the elements that were reserved are given back");
        assertEquals(usedBefore, pages.stats().usedPages());
    }

    @Test
    void createFailsCleanlyWhenTheSourceThrows() {
        hogs.add(pages.allocate(TOTAL - 7, Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC)));
        Mempool.Source<Pages> throwing = new Mempool.Source<>() {
            @Override public Pages allocate(Gfp gfp) { return pages.allocate(PER_ELEMENT, gfp); }
            @Override public void free(Pages element) { element.free(); }
        };
        assertThrows(PageAllocationException.class, () -> Mempool.create(platform, "throwing", 4, throwing));
        assertEquals(7, pages.freePages(), "the elements that were reserved are given back");
    }

    @Test
    void aMemallocCallerIsServedLikeAnyOther() {
        // mempool_alloc adds __GFP_NOMEMALLOC to whatever the caller asks; a caller's own
        // __GFP_MEMALLOC must not turn that into a rejected combination.
        Mempool<Pages> pool = Mempool.ofPages(pages, "memalloc", MIN_NR, PER_ELEMENT);
        Pages e = pool.allocate(Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC));
        assertNotNull(e);
        exhaust();
        Pages r = pool.allocate(Gfp.NOIO.with(Gfp.Modifier.MEMALLOC));
        assertNotNull(r);
        pool.free(e);
        pool.free(r);
        pool.destroy();
    }

    @Test
    void nofailAndRetryMayfailCallersAreServed() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "nofail", MIN_NR, PER_ELEMENT);
        exhaust();
        Pages a = pool.allocate(Gfp.KERNEL.with(Gfp.Modifier.NOFAIL));
        Pages b = pool.allocate(Gfp.NOFS.with(Gfp.Modifier.RETRY_MAYFAIL));
        assertNotNull(a);
        assertNotNull(b);
        pool.free(a);
        pool.free(b);
        pool.destroy();
    }

    @Test
    void aDoubleFreeIsRefusedEvenWhileOtherElementsAreOut() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "double", MIN_NR, PER_ELEMENT);
        Pages a = pool.allocate(Gfp.KERNEL);
        Pages b = pool.allocate(Gfp.KERNEL);
        pool.free(a);
        assertThrows(IllegalStateException.class, () -> pool.free(a), "a counter alone would have taken b's place");
        assertEquals(1, pool.outstanding());
        pool.free(b);
        pool.destroy();
    }

    @Test
    void holdersNameTheTasksThatAllocatedElementsNotYetFreed() {
        Mempool<Pages> pool = Mempool.ofPages(pages, "owners", MIN_NR, PER_ELEMENT);
        Task self = platform.currentTask();
        Pages mine = pool.allocate(Gfp.KERNEL);
        AtomicReference<Pages> theirs = new AtomicReference<>();
        DrivenTask other = new DrivenTask(platform, "other", seq);
        try {
            other.run(() -> theirs.set(pool.allocate(Gfp.KERNEL)));
            Pages second = pool.allocate(Gfp.KERNEL);
            assertEquals(java.util.Map.of(self, 2, other.task(), 1), pool.holders());
            other.run(() -> pool.free(mine)); // freed by another task: the element's record goes, not the freer's
            assertEquals(java.util.Map.of(self, 1, other.task(), 1), pool.holders());
            pool.free(theirs.get());
            pool.free(second);
            assertEquals(java.util.Map.of(), pool.holders());
        } finally {
            other.close();
        }
        pool.destroy();
    }

    @Test
    void aPoolWithNoReserveWaitsAndTheNextFreeWakesIt() {
        // mempool_create(0, ...) is legal; mempool_free keeps one element while such a pool's
        // reserve is empty so that a waiter is woken (the kernel's "min_nr = 0 edge case").
        Mempool<Pages> pool = Mempool.create(platform, "zero", 0, new PageSource(), Duration.ofHours(1));
        assertEquals(0, pool.reserved());
        Pages a = pool.allocate(Gfp.KERNEL);
        exhaust();
        assertNull(pool.allocate(Gfp.ATOMIC), "no reserve: a context that may not sleep gets nothing");
        AtomicReference<Pages> second = new AtomicReference<>();
        DrivenTask d = new DrivenTask(platform, "zero-waiter", seq);
        try {
            DrivenTask.Op op = d.submit(() -> second.set(pool.allocate(Gfp.KERNEL)));
            try {
                Bounded.untilBlocked(d.task(), Bounded.primitive("waitqueue", "mempool zero"), "the mempool's wait queue", op);
                assertFalse(op.isDone());
            } finally {
                pool.free(a);
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
        assertSame(a, second.get(), "the waiter got the freed element");
        pool.free(second.get());
        assertEquals(1, pool.reserved(), "an empty reserve keeps one freed element");
        pool.destroy();
    }
}
