package dev.rescuer.core;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.PageAllocationException;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.platform.Bounded;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Headline: <b>thread creation costs memory.</b> Each thread a system's platform starts costs its
 * creator {@code pagesPerThread} pages with {@code GFP_KERNEL}, given back when it exits; under memory
 * pressure starting a thread enters direct reclaim in the creator, where it can block behind a shrinker
 * waiting for I/O, or fail. That is what will make rescuers necessary.
 */
class ThreadCreationCostsMemoryTest {

    private static final int TOTAL = 128;
    private static final int MIN = 16;
    private static final int PER_THREAD = 4;

    private RescuerSystem sys;
    private Platform platform;
    private PageAllocator pages;
    private final AtomicLong seq = new AtomicLong();
    private final List<Pages> hogs = new ArrayList<>();

    @BeforeEach
    void setUp() {
        sys = RescuerSystem.builder().name("tc").totalPages(TOTAL).watermarks(MIN, 24, 32).pagesPerThread(PER_THREAD)
                .backgroundReclaim(false).reclaimRetries(1).retryBackoff(Duration.ofMillis(1)).build();
        platform = sys.platform();
        pages = sys.pages();
    }

    @AfterEach
    void tearDown() {
        hogs.forEach(Pages::close);
        sys.close();
    }

    /** Takes pages without reclaim until exactly {@code free} remain. */
    private void hogTo(long free) {
        hogs.add(pages.allocate((int) (pages.freePages() - free), Gfp.KERNEL.with(Gfp.Modifier.MEMALLOC)));
        assertEquals(free, pages.freePages());
    }

    private static boolean hasTaskNamed(Platform p, String name) {
        for (Task t : p.tasks()) {
            if (t.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Names of the tasks the platform started. Adopted tasks are left out: JUnit runs each lifecycle method
     * on its own thread, and the platform drops the adopted task of a finished one at any moment.
     */
    private static List<String> startedTaskNames(Platform p) {
        List<String> names = new ArrayList<>();
        for (Task t : p.tasks()) {
            if (!t.isAdopted()) {
                names.add(t.name());
            }
        }
        return names;
    }

    /** Dirty pages that can only be freed after writeback, which waits for an I/O completion. */
    private static final class Writeback implements Shrinker {
        final ConcurrentLinkedQueue<Pages> dirty = new ConcurrentLinkedQueue<>();
        final Completion ioDone;
        final List<Gfp> seen = new CopyOnWriteArrayList<>();
        final AtomicInteger stops = new AtomicInteger();

        Writeback(Completion ioDone) {
            this.ioDone = ioDone;
        }

        @Override public String name() { return "writeback"; }

        @Override public long count(ShrinkControl control) { return dirty.size(); }

        @Override
        public long scan(ShrinkControl control) {
            seen.add(control.gfp());
            if (!control.gfp().mayIo()) {
                stops.incrementAndGet();
                return STOP; // may not start or wait for I/O in this context
            }
            ioDone.waitFor(); // wait for the writeback I/O to complete
            long freed = 0;
            for (Pages p; freed < control.nrToScan() && (p = dirty.poll()) != null; freed++) {
                p.free();
            }
            return freed;
        }
    }

    @Test
    void startingAThreadTakesItsPagesUntilItExits() {
        Completion go = new Completion(platform, "go");
        long free0 = pages.freePages();
        long used0 = pages.stats().usedPages();
        long allocations0 = pages.stats().allocations();
        Task t;
        Task u;
        try {
            t = platform.startThread("worker/1", go::waitFor);
            assertEquals(free0 - PER_THREAD, pages.freePages(), "a running thread holds its stack pages");
            assertEquals(used0 + PER_THREAD, pages.stats().usedPages());
            u = platform.startThread("worker/2", go::waitFor);
            assertEquals(free0 - 2 * PER_THREAD, pages.freePages());
            assertEquals(PER_THREAD, sys.pagesPerThread());
        } finally {
            go.completeAll();
        }
        platform.join(t);
        platform.join(u);
        assertEquals(free0, pages.freePages(), "an exited thread's pages are back by the time join returns");
        assertEquals(used0, pages.stats().usedPages());
        assertEquals(allocations0 + 2, pages.stats().allocations(), "one GFP_KERNEL allocation per thread");
    }

    @Test
    void withPagesShortAndNoReclaimProgressStartThreadFailsAndLeaksNothing() {
        Writeback empty = new Writeback(new Completion(platform, "unused"));
        AtomicBoolean ran = new AtomicBoolean();
        try (ShrinkerRegistration r = pages.registerShrinker(empty)) {
            hogTo(MIN);
            long used = pages.stats().usedPages();
            long failures = pages.stats().failures();
            List<String> before = startedTaskNames(platform);

            ThreadStartException e = assertThrows(ThreadStartException.class,
                    () -> platform.startThread("kworker/u8:7", () -> ran.set(true)));
            assertTrue(e.getMessage().contains("cannot start thread kworker/u8:7"), e.getMessage());
            assertTrue(e.getMessage().contains("no pages"), e.getMessage());
            assertTrue(e.getCause() instanceof PageAllocationException, String.valueOf(e.getCause()));
            assertTrue(e.getMessage().contains(PER_THREAD + " pages, GFP_KERNEL"), e.getMessage());

            assertFalse(ran.get());
            assertFalse(hasTaskNamed(platform, "kworker/u8:7"));
            assertEquals(before, startedTaskNames(platform), "a failed start leaves no task behind");
            assertEquals(MIN, pages.freePages(), "a failed start leaves no pages charged");
            assertEquals(used, pages.stats().usedPages());
            assertEquals(failures + 1, pages.stats().failures());
            assertTrue(pages.stats().directReclaims() > 0, "the creator tried direct reclaim first");
        }
    }

    @Test
    void withPagesShortStartThreadBlocksInDirectReclaimBehindWritebackAndCompletesWhenTheIoDoes() {
        Completion ioDone = new Completion(platform, "writeback-io");
        Writeback wb = new Writeback(ioDone);
        Completion go = new Completion(platform, "go");
        AtomicReference<Task> started = new AtomicReference<>();
        DrivenTask creator = new DrivenTask(platform, "kthreadd", seq); // costs its own pages first
        try (ShrinkerRegistration r = pages.registerShrinker(wb)) {
            for (int i = 0; i < 8; i++) {
                wb.dirty.add(pages.allocate(1, Gfp.KERNEL));
            }
            hogTo(MIN);
            DrivenTask.Op op;
            try {
                op = creator.runUntilBlocked(() -> started.set(platform.startThread("kworker/0:2", go::waitFor)), ioDone);
                assertSame(ioDone, creator.task().waitingOn(), "thread creation blocks in direct reclaim on the writeback I/O");
                assertTrue((creator.task().memallocFlags() & MemallocScope.NORECLAIM) != 0,
                        "the creator is inside reclaim (PF_MEMALLOC)");
                assertFalse(op.isDone());
                assertFalse(hasTaskNamed(platform, "kworker/0:2"), "the thread does not exist while its pages are short");
                assertEquals(MIN, pages.freePages());
                assertEquals(List.of(Gfp.KERNEL), wb.seen, "thread stacks are charged with GFP_KERNEL");
            } finally {
                ioDone.completeAll();
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            Task t = started.get();
            assertNotNull(t);
            assertEquals("kworker/0:2", t.name());
            try {
                assertTrue(platform.tasks().contains(t));
                assertEquals(MIN + 8 - PER_THREAD, pages.freePages(), "writeback freed 8 pages, the new stack took 4");
            } finally {
                go.complete();
            }
            platform.join(t);
            assertEquals(MIN + 8, pages.freePages(), "the thread's pages come back when it exits");
        } finally {
            Bounded.closeUnlessBlocked(creator);
        }
    }

    @Test
    void aCreatorInANoioScopeCannotWaitForWritebackSoItsStartWaitsInReclaim() {
        // A thread's pages (4, order 2) under a NOIO scope are too small to fail: the kernel's
        // out_of_memory reports progress for an allocation without __GFP_FS, so the creator keeps
        // reclaiming, never starting writeback, until memory is freed by someone else.
        Completion ioDone = new Completion(platform, "writeback-io");
        Writeback wb = new Writeback(ioDone);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        DrivenTask creator = new DrivenTask(platform, "creator", seq);
        try (ShrinkerRegistration r = pages.registerShrinker(wb)) {
            for (int i = 0; i < 8; i++) {
                wb.dirty.add(pages.allocate(1, Gfp.KERNEL));
            }
            hogTo(MIN);
            try {
                DrivenTask.Op op = creator.submit(() -> {
                    try (MemallocScope s = MemallocScope.noio(platform)) {
                        platform.startThread("kworker/1:0", () -> { });
                    } catch (Throwable e) {
                        thrown.set(e);
                    }
                });
                try {
                    Poll.until("the creator reclaims well past the retry limit", () -> wb.stops.get() > 5 || op.isDone());
                    assertFalse(op.isDone(), "the start gave up: " + thrown.get());
                    assertEquals(8, wb.dirty.size(), "no writeback was started");
                } finally {
                    Pages hog = hogs.remove(hogs.size() - 1);
                    hog.free(PER_THREAD); // memory comes back from elsewhere
                    hogs.add(hog);
                }
                DrivenTask.awaitDone(op);
                DrivenTask.rethrow(op);
            } finally {
                ioDone.completeAll(); // only matters if the shrinker wrongly waited for I/O
            }
            assertEquals(null, thrown.get());
            for (Gfp g : wb.seen) {
                assertFalse(g.mayIo(), "the creator's NOIO scope applies to the stack allocation: " + g);
            }
            assertEquals(8, wb.dirty.size(), "no writeback was started");
            wb.dirty.forEach(Pages::free);
        } finally {
            Bounded.closeUnlessBlocked(creator);
        }
    }
}
