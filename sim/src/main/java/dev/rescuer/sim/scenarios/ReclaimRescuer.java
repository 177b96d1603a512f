package dev.rescuer.sim.scenarios;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Why {@code WQ_MEM_RECLAIM} exists, end to end. Writers dirty page-cache pages until memory runs
 * short. Reclaim (direct, in the writers and in kthreadd, or kswapd's) can free a dirty page only
 * after writing it back: it queues a writeback item and waits for it. The writeback item submits the
 * I/O and waits for the device's completion item, which the device's interrupt queues on the endio
 * queue. Starting a worker costs pages, so once every worker waits, creating one more needs reclaim,
 * which needs the very items waiting for a worker.
 *
 * <ul>
 *   <li>{@code no-rescuer}: neither queue is {@code MEM_RECLAIM}. Nothing can break the cycle; the
 *       hung-task detector fires.
 *   <li>{@code mem-reclaim}: both are. Their rescuers run the items when the pool cannot grow, and
 *       every schedule completes.
 *   <li>{@code shared-queue}: both kinds of item go to one {@code MEM_RECLAIM} queue. Its single
 *       rescuer runs a writeback item, which waits for an endio item queued behind it on the same
 *       queue: the kernel's documented limit that items depending on each other need separate
 *       reclaim queues.
 * </ul>
 *
 * <p>Every timer (the device's completion interrupt, the mayday timer) fires up to
 * {@link #TIMER_JITTER} late, drawn from the run's fault stream, so schedules also vary in timing.
 *
 * <p>Pressure does not arrive at the same moment in every schedule. Each writer dirties a page every
 * 0 to {@link #WRITER_PACE_MAX} of virtual time, its pace drawn once from the run's seed
 * ({@code ctx.random()}); above {@link #BACKGROUND_THRESH} dirty pages a writer kicks the flusher
 * ({@code wb_start_background_writeback}), whose item ({@code wb_workfn}, on the writeback queue)
 * cleans a batch without freeing it. When the writers are slow, the flusher's items grow the pool while
 * memory is still free, and reclaim later finds clean pages or idle workers: the schedule completes,
 * with reclaim having waited on writeback and the writeback items having run on a queue that may need a
 * new worker. The validator reads both halves of the cycle there (docs/VALIDATOR.md). When they are
 * fast, pressure meets a pool that must grow, and the variants without a rescuer per queue hang.
 */
public final class ReclaimRescuer implements Scenario {

    static final int WRITERS = 2;
    static final int PAGES_PER_WRITER = 48;
    static final int TOTAL_PAGES = 96;
    static final int WRITEBACK_BATCH = 2;
    /** Dirty pages above which a writer kicks the flusher's background writeback (dirty_background_thresh). */
    static final int BACKGROUND_THRESH = 16;
    /** A writer dirties a page every 0 to this much virtual time, the bound drawn once per writer per run. */
    static final Duration WRITER_PACE_MAX = Duration.ofMillis(4);
    static final Duration DEVICE_LATENCY = Duration.ofMillis(2);

    static final Duration TIMER_JITTER = Duration.ofMillis(3);

    private static final List<Variant> VARIANTS = List.of(
            new Variant("no-rescuer", "writeback and endio queues without WQ_MEM_RECLAIM", Variant.Expectation.HANGS),
            new Variant("mem-reclaim", "writeback and endio queues, each WQ_MEM_RECLAIM with its own rescuer", Variant.Expectation.COMPLETES),
            new Variant("shared-queue", "writeback and endio items on one WQ_MEM_RECLAIM queue", Variant.Expectation.HANGS));

    @Override
    public String name() {
        return "reclaim-rescuer";
    }

    @Override
    public String description() {
        return "Writers dirty pages until reclaim must write them back; writeback items wait for the device's "
                + "endio items; starting a worker costs pages.";
    }

    @Override
    public List<Variant> variants() {
        return VARIANTS;
    }

    @Override
    public long estimatedSteps() {
        return 1_000;
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(TOTAL_PAGES).watermarks(8, 12, 16)
                .pagesPerThread(4).workqueues(WorkqueueConfig.defaults().withCpus(1)));
        ctx.faults().timerLatency(TIMER_JITTER); // devices and timers are not punctual
        Platform platform = ctx.platform();
        WorkQueue writeback;
        WorkQueue endio;
        switch (variant.name()) {
            case "no-rescuer":
                writeback = sys.workqueues().create("writeback", 0);
                endio = sys.workqueues().create("endio", 0);
                break;
            case "mem-reclaim":
                writeback = sys.workqueues().create("writeback", 0, WqFlag.MEM_RECLAIM);
                endio = sys.workqueues().create("endio", 0, WqFlag.MEM_RECLAIM);
                break;
            case "shared-queue":
                writeback = sys.workqueues().create("reclaim", 0, WqFlag.MEM_RECLAIM);
                endio = writeback;
                break;
            default:
                throw new IllegalArgumentException("unknown variant " + variant.name());
        }
        PageCache cache = new PageCache(ctx, writeback, endio);
        sys.pages().registerShrinker(cache);
        for (int w = 0; w < WRITERS; w++) {
            // How fast a program writes is not known in advance: each writer's pace is drawn from the run's seed.
            long paceNanos = ctx.random().nextLong(WRITER_PACE_MAX.toNanos() + 1);
            String name = "writer/" + w;
            ctx.spawn(name, () -> {
                WaitQueue pace = WaitQueue.idle(platform, name + "/pace", "writer pace");
                for (int i = 0; i < PAGES_PER_WRITER; i++) {
                    cache.dirty(sys.pages().allocate(1, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL)));
                    ctx.progress();
                    if (paceNanos > 0) {
                        pace.waitEventTimeout(() -> false, Duration.ofNanos(paceNanos));
                    }
                }
            });
        }
        ctx.invariant("every page is accounted for", () ->
                sys.pages().freePages() + sys.pages().stats().usedPages() == TOTAL_PAGES);
    }

    /**
     * Page cache holding the writers' pages. Clean pages (written back by the flusher) are freed at
     * once; dirty ones need writeback first, which only a context that may do I/O can wait for.
     */
    static final class PageCache implements Shrinker {
        private final ScenarioContext ctx;
        private final Platform platform;
        private final WorkQueue writeback;
        private final WorkQueue endio;
        private final SpinLock lock;
        private final ArrayDeque<Pages> dirty = new ArrayDeque<>();   // Guarded by lock
        private final ArrayDeque<Pages> clean = new ArrayDeque<>();   // Guarded by lock: written back, not yet freed
        private final Work flusher = new Work("wb_workfn", this::backgroundWriteback);
        private boolean flushing;                                     // Guarded by lock: flusher queued or running
        private int requests;                                         // Guarded by lock

        PageCache(ScenarioContext ctx, WorkQueue writeback, WorkQueue endio) {
            this.ctx = ctx;
            this.platform = ctx.platform();
            this.writeback = writeback;
            this.endio = endio;
            this.lock = new SpinLock(platform, "pagecache.lock");
        }

        void dirty(Pages p) {
            boolean kick;
            lock.lock();
            try {
                dirty.addLast(p);
                kick = !flushing && dirty.size() > BACKGROUND_THRESH;
                if (kick) {
                    flushing = true;
                }
            } finally {
                lock.unlock();
            }
            if (kick) {
                writeback.queue(flusher); // wb_start_background_writeback
            }
        }

        /** The flusher's background writeback ({@code wb_workfn}): one batch of the oldest dirty pages, cleaned, not freed. */
        private void backgroundWriteback() {
            List<Pages> batch = new ArrayList<>();
            int id;
            lock.lock();
            try {
                while (batch.size() < WRITEBACK_BATCH && !dirty.isEmpty()) {
                    batch.add(dirty.pollFirst());
                }
                id = requests++;
            } finally {
                lock.unlock();
            }
            if (!batch.isEmpty()) {
                Completion ioDone = submit(id);
                ioDone.waitFor();
            }
            lock.lock();
            try {
                clean.addAll(batch);
                flushing = false;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public String name() {
            return "pagecache";
        }

        @Override
        public long count(ShrinkControl control) {
            lock.lock();
            try {
                return clean.size() + dirty.size();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long scan(ShrinkControl control) {
            List<Pages> freed = new ArrayList<>();
            lock.lock();
            try {
                while (freed.size() < control.nrToScan() && !clean.isEmpty()) {
                    freed.add(clean.pollFirst()); // clean pages go at once
                }
            } finally {
                lock.unlock();
            }
            if (!freed.isEmpty()) {
                freed.forEach(Pages::close);
                ctx.progress();
                return freed.size();
            }
            if (!control.gfp().mayIo()) {
                return STOP; // dirty pages cannot be written back without I/O
            }
            List<Pages> batch = new ArrayList<>();
            int id;
            lock.lock();
            try {
                while (batch.size() < Math.min(WRITEBACK_BATCH, control.nrToScan()) && !dirty.isEmpty()) {
                    batch.add(dirty.pollFirst());
                }
                id = requests++;
            } finally {
                lock.unlock();
            }
            if (batch.isEmpty()) {
                return 0;
            }
            writeBack(id).waitFor(); // wait_on_page_writeback
            for (Pages p : batch) {
                p.close();
            }
            ctx.progress();
            return batch.size();
        }

        /**
         * An event and who completes it now ({@link HandedOnEvent}): a work item, or the device while the
         * I/O is in flight (not a task: the report's chain ends there).
         */
        private record Pending(Supplier<String> where, Supplier<Object> now) implements HandedOnEvent {
            @Override
            public Object completer() {
                return now.get();
            }

            @Override
            public String describe() {
                return where.get();
            }
        }

        /** The disk, as the completer of a bio it has in flight. */
        private static final Object DEVICE = "the device";

        /** Queues the writeback of request {@code id} and returns what completes when it is on disk. */
        private Completion writeBack(int id) {
            Completion written = new Completion(platform, "writeback#" + id, "page-writeback");
            Work writebackItem = new Work("writeback#" + id, () -> {
                submit(id).waitFor(); // wait for the device's completion item
                written.complete();
            });
            // Who completes each wait now, as a bio records it in the storage model: the report (and the
            // validator) follow it without a declaration, and without a signal to learn from, which a
            // hanging schedule may never give (its first writeback and endio items never get a worker).
            written.setOwner(new Pending(() -> "the writeback of request " + id + ", done by", () -> writebackItem));
            writeback.queue(writebackItem);
            return written;
        }

        /**
         * Submits request {@code id}'s I/O ({@code submit_bio}) and returns its end-io, which the
         * device's interrupt defers to an item on the endio queue.
         */
        private Completion submit(int id) {
            Completion ioDone = new Completion(platform, "bio#" + id, "bio-end-io");
            Work endioItem = new Work("endio#" + id, ioDone::complete);
            PlatformTimer irq = platform.newTimer("disk-irq#" + id, () -> endio.queue(endioItem));
            ioDone.setOwner(new Pending(
                    () -> irq.isPending() ? "bio#" + id + ": in flight on the device" : "bio#" + id + ", end-io deferred to",
                    () -> irq.isPending() ? DEVICE : endioItem));
            irq.arm(DEVICE_LATENCY);
            return ioDone;
        }
    }
}
