package dev.rescuer.cli;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runtime's self-check: each check builds its own small system on real threads, provokes one
 * guarantee and reports what it observed. Nothing here is scripted to pass: a check fails when the
 * runtime does not behave as documented.
 */
final class SelfCheck {

    private static final Duration PATIENCE = Duration.ofSeconds(10);

    private final PrintStream out;
    private int passed;
    private int failed;

    record Result(int passed, int failed) {
    }

    @FunctionalInterface
    private interface Check {
        /** Runs the check; returns what was observed; throws when the guarantee does not hold. */
        String run() throws Exception;
    }

    SelfCheck(PrintStream out) {
        this.out = out;
    }

    Result runAll() {
        out.println("Runtime self-check (real threads):");
        check("mutex hands over to waiters in FIFO order", this::mutexFifo);
        check("rw-semaphore prefers a queued writer over new readers", this::writerPreference);
        check("sleeping in atomic context is reported", this::atomicSleep);
        check("reclaim honours the task's NOIO scope", this::reclaimHonoursNoio);
        check("mempool never fails a blocking allocation", this::mempoolWaits);
        check("starting a thread costs pages and fails when they are short", this::threadCost);
        check("thread creation blocks in direct reclaim", this::threadCreationBlocksInReclaim);
        check("a MEM_RECLAIM queue's rescuer finishes work no worker can take", () -> rescuer(true));
        check("without MEM_RECLAIM the same work stays stuck until memory returns", () -> rescuer(false));
        return new Result(passed, failed);
    }

    private void check(String name, Check c) {
        try {
            String detail = c.run();
            passed++;
            out.printf("  ok    %-62s %s%n", name, detail);
        } catch (Throwable t) {
            failed++;
            out.printf("  FAIL  %-62s %s%n", name, t);
        }
    }

    private static RescuerSystem.Builder smallSystem() {
        return RescuerSystem.builder().totalPages(256).watermarks(8, 10, 12).backgroundReclaim(false).withoutWorkqueues();
    }

    // ------------------------------------------------------------------ checks

    private String mutexFifo() {
        try (RescuerSystem sys = smallSystem().build()) {
            Platform p = sys.platform();
            Mutex m = new Mutex(p, "selfcheck_mutex");
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            m.lock();
            Task a = start(p, "waiter-A", () -> { m.lock(); order.add("A"); m.unlock(); });
            awaitBlocked(a, m);
            Task b = start(p, "waiter-B", () -> { m.lock(); order.add("B"); m.unlock(); });
            awaitBlocked(b, m);
            m.unlock();
            p.join(a);
            p.join(b);
            require(order.equals(List.of("A", "B")), "order was " + order);
            return "order " + order;
        }
    }

    private String writerPreference() {
        try (RescuerSystem sys = smallSystem().build()) {
            Platform p = sys.platform();
            RwSemaphore sem = new RwSemaphore(p, "selfcheck_origins_lock");
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            sem.downRead();
            Task w = start(p, "writer", () -> { sem.downWrite(); order.add("writer"); sem.upWrite(); });
            awaitBlocked(w, sem);
            Task r2 = start(p, "reader-2", () -> { sem.downRead(); order.add("reader-2"); sem.upRead(); });
            awaitBlocked(r2, sem);
            require(sem.readers() == 1, "readers=" + sem.readers());
            sem.upRead();
            p.join(w);
            p.join(r2);
            require(order.equals(List.of("writer", "reader-2")), "order was " + order);
            return "new reader waited while read-held; order " + order;
        }
    }

    private String atomicSleep() {
        try (RescuerSystem sys = smallSystem().build()) {
            Platform p = sys.platform();
            SpinLock spin = new SpinLock(p, "selfcheck_spin");
            Mutex m = new Mutex(p, "selfcheck_mutex");
            spin.lock();
            try {
                m.lock();
                m.unlock();
                throw new IllegalStateException("mutex_lock under a spin lock was allowed");
            } catch (AtomicContextException expected) {
                require(!m.isLocked(), "the mutex was taken anyway");
                return "\"" + expected.getMessage().substring(0, expected.getMessage().indexOf(':', 5)) + "\"";
            } finally {
                spin.unlock();
            }
        }
    }

    private String reclaimHonoursNoio() {
        try (RescuerSystem sys = smallSystem().pagesPerThread(0).build()) {
            PageAllocator pages = sys.pages();
            AtomicReference<Gfp> seen = new AtomicReference<>();
            ArrayDeque<Pages> cache = new ArrayDeque<>();
            pages.registerShrinker(new Shrinker() {
                @Override public String name() { return "selfcheck_cache"; }
                @Override public long count(ShrinkControl sc) { return cache.size(); }
                @Override public long scan(ShrinkControl sc) {
                    seen.set(sc.gfp());
                    if (!sc.gfp().mayIo()) {
                        return STOP; // writing back would need I/O
                    }
                    long n = 0;
                    for (; n < sc.nrToScan() && !cache.isEmpty(); n++) {
                        cache.pop().free();
                    }
                    return n;
                }
            });
            long fill = pages.freePages() - pages.lowWatermark() + 1;
            for (int i = 0; i < fill; i++) {
                cache.push(pages.allocate(1, Gfp.KERNEL));
            }
            try (MemallocScope s = MemallocScope.noio(sys.platform())) {
                Pages got = pages.tryAllocate(8, Gfp.KERNEL.with(Gfp.Modifier.NORETRY, Gfp.Modifier.NOWARN));
                require(seen.get() != null, "the shrinker was not called");
                require(!seen.get().mayIo() && !seen.get().mayFs(), "the shrinker saw " + seen.get());
                if (got != null) {
                    got.free();
                }
            }
            Gfp underNoio = seen.get();
            Pages got = pages.allocate(8, Gfp.KERNEL);
            require(seen.get().mayIo(), "outside the scope the shrinker saw " + seen.get());
            got.free();
            cache.forEach(Pages::free);
            return "GFP_KERNEL ran reclaim as " + underNoio + " inside noio, " + seen.get() + " outside";
        }
    }

    private String mempoolWaits() {
        try (RescuerSystem sys = smallSystem().pagesPerThread(0).build()) {
            Platform p = sys.platform();
            PageAllocator pages = sys.pages();
            Mempool<Pages> pool = Mempool.ofPages(pages, "selfcheck_bio_pool", 2, 1);
            List<Pages> hog = new ArrayList<>();
            for (Pages g; (g = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
                hog.add(g);
            }
            Pages e1 = pool.allocate(Gfp.NOIO);
            Pages e2 = pool.allocate(Gfp.NOIO);
            require(pool.allocate(Gfp.NOWAIT) == null, "a NOWAIT allocation from the empty pool did not fail");
            AtomicReference<Pages> third = new AtomicReference<>();
            Task t = start(p, "bio-submitter", () -> third.set(pool.allocate(Gfp.NOIO)));
            Primitive waitedOn = awaitBlockedOnKind(t, "waitqueue");
            pool.free(e1);
            p.join(t);
            require(third.get() != null, "the blocked allocation returned null");
            pool.free(third.get());
            pool.free(e2);
            pool.destroy();
            hog.forEach(Pages::free);
            return "with 0 pages free the third allocation slept on " + waitedOn.name() + " and got the freed element";
        }
    }

    private String threadCost() {
        try (RescuerSystem sys = smallSystem().pagesPerThread(4).reclaimRetries(0).retryBackoff(Duration.ofMillis(1)).build()) {
            Platform p = sys.platform();
            PageAllocator pages = sys.pages();
            Completion go = new Completion(p, "selfcheck_go");
            long before = pages.freePages();
            Task t = start(p, "costly", go::waitFor);
            long during = pages.freePages();
            go.complete();
            p.join(t);
            long after = pages.freePages();
            require(before - during == 4 && after == before, "free pages " + before + " -> " + during + " -> " + after);
            List<Pages> hog = new ArrayList<>();
            for (Pages g; (g = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
                hog.add(g);
            }
            try {
                p.startThread("doomed", () -> { });
                throw new IllegalStateException("a thread started with no pages left");
            } catch (ThreadStartException expected) {
                require(pages.freePages() == 0, "a failed start leaked pages");
            } finally {
                hog.forEach(Pages::free);
            }
            return "free pages " + before + " -> " + during + " while running -> " + after + "; refused when out of pages";
        }
    }

    private String threadCreationBlocksInReclaim() {
        try (RescuerSystem sys = smallSystem().pagesPerThread(4).build()) {
            Platform p = sys.platform();
            PageAllocator pages = sys.pages();
            Completion writeback = new Completion(p, "selfcheck_writeback_done");
            ArrayDeque<Pages> dirty = new ArrayDeque<>();
            pages.registerShrinker(new Shrinker() {
                @Override public String name() { return "selfcheck_dirty_cache"; }
                @Override public long count(ShrinkControl sc) { return dirty.size(); }
                @Override public long scan(ShrinkControl sc) {
                    if (!sc.gfp().mayIo()) {
                        return STOP;
                    }
                    writeback.waitFor(); // the dirty pages must be written back first
                    long n = 0;
                    for (; n < sc.nrToScan() && !dirty.isEmpty(); n++) {
                        dirty.pop().free();
                    }
                    return n;
                }
            });
            Completion started = new Completion(p, "selfcheck_started");
            Task creator = start(p, "kthreadd", () -> {
                while (pages.freePages() > 0) {
                    dirty.push(pages.allocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN)));
                }
                Task worker = p.startThread("kworker/0:1", started::complete);
                p.join(worker);
            });
            awaitBlocked(creator, writeback);
            writeback.completeAll();
            p.join(creator);
            require(creator.failure() == null, "the creator failed: " + creator.failure());
            require(started.tryWaitFor(), "the worker never ran");
            dirty.forEach(Pages::free);
            return "the creator slept on " + writeback.name() + " inside reclaim, then the worker started";
        }
    }

    /**
     * Every worker of a one-CPU pool waits for an item of a second queue, and no worker can be
     * created because no page is left: only the second queue's rescuer can run that item.
     */
    private String rescuer(boolean memReclaim) {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCreateCooldown(Duration.ofMillis(20));
        try (RescuerSystem sys = smallSystem().totalPages(512).reclaimRetries(0).retryBackoff(Duration.ofMillis(1))
                .workqueues(cfg).build()) {
            Platform p = sys.platform();
            Workqueues wqs = sys.workqueues();
            WorkQueue upper = wqs.create("fs_writeback", 0);
            WorkQueue lower = memReclaim ? wqs.create("dm_endio", 0, WqFlag.MEM_RECLAIM) : wqs.create("dm_endio", 0);
            Completion gate = new Completion(p, "selfcheck_gate");
            Completion io = new Completion(p, "selfcheck_io");
            Completion submitted = new Completion(p, "selfcheck_submitted");
            java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
            upper.queue(new Work("submit_bio", () -> {
                gate.waitFor();
                lower.queue(new Work("end_io", () -> {
                    ran.set(true);
                    io.complete();
                }));
                submitted.complete();
                io.waitFor();
            }));
            awaitWaiter(gate);
            awaitIdleWorker(p);
            List<Pages> hog = hogAllPages(sys.pages());
            long failures = wqs.stats().workerCreationFailures();
            gate.complete();
            submitted.waitFor();
            String detail;
            if (memReclaim) {
                awaitState(ran::get, "end_io to run");
                require(wqs.stats().rescued() > 0, "end_io ran, but not by the rescuer");
                awaitState(() -> wqs.stats().workerCreationFailures() > failures, "a failed worker creation");
                detail = "rescued " + wqs.stats().rescued() + " item while " + (wqs.stats().workerCreationFailures() - failures)
                        + " worker creation(s) failed for lack of pages";
            } else {
                awaitState(() -> wqs.stats().workerCreationFailures() >= failures + 3, "three failed worker creations");
                require(!ran.get(), "end_io ran without a worker");
                detail = "end_io still pending after " + (wqs.stats().workerCreationFailures() - failures)
                        + " failed worker creations; it ran once pages were freed";
            }
            hog.forEach(Pages::free);
            upper.flush();
            require(ran.get(), "end_io never ran");
            upper.destroy();
            lower.destroy();
            return detail;
        }
    }

    private static List<Pages> hogAllPages(PageAllocator pages) {
        List<Pages> hog = new ArrayList<>();
        for (Pages g; (g = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
            hog.add(g);
        }
        return hog;
    }

    private static Task awaitWaiter(Completion c) {
        awaitState(() -> !c.waitingTasks().isEmpty(), "a task waiting on " + c.name());
        return c.waitingTasks().get(0);
    }

    /** Waits until CPU 0's normal pool has an idle worker in reserve, read from the task records. */
    private static void awaitIdleWorker(Platform p) {
        awaitState(() -> p.tasks().stream().anyMatch(t -> t.name().startsWith("kworker/0:") && !t.name().endsWith("H")
                && t.waitingOn() != null && t.waitingOn().isIdleWait()), "an idle worker");
    }

    private static void awaitState(java.util.function.BooleanSupplier cond, String what) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!cond.getAsBoolean()) {
            require(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Task start(Platform p, String name, Runnable body) {
        return p.startThread(name, body);
    }

    /** Polls the task's record until it sleeps on {@code on}; a bounded wait on observable state. */
    private static void awaitBlocked(Task t, Primitive on) {
        awaitState(() -> blockedOn(t, w -> w == on), "task " + t + " to block on " + on.describe());
    }

    private static Primitive awaitBlockedOnKind(Task t, String kind) {
        awaitState(() -> blockedOn(t, w -> w.kind().equals(kind)), "task " + t + " to block on a " + kind);
        return t.waitingOn();
    }

    private static boolean blockedOn(Task t, java.util.function.Predicate<Primitive> on) {
        require(!t.hasExited(), "task " + t + " exited instead of blocking" + (t.failure() != null ? ": " + t.failure() : ""));
        Primitive w = t.waitingOn();
        return t.state() == Task.State.BLOCKED && w != null && on.test(w);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what);
        }
    }
}
