package dev.rescuer.core.mm;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A fixed budget of pages with the kernel's watermarks, reclaim and failure rules: the part of
 * {@code mm/page_alloc.c} and {@code mm/vmscan.c} that decides whether a layered I/O system can make
 * progress under memory pressure.
 *
 * <p><b>Allocation</b> ({@link #allocate}, {@link #tryAllocate}) takes the effective context (the
 * requested {@link Gfp} masked by the task's {@link MemallocScope}s) and proceeds as the kernel does:
 * <ol>
 *   <li>Fast path: take the pages if at least {@code low} pages stay free.
 *   <li>Slow path: wake kswapd, the background reclaimer, if the context allows; take the pages if at
 *       least {@code min} stay free ({@code HIGH} may go to half of {@code min}, an atomic {@code HIGH}
 *       allocation to three eighths); a task in a {@code NORECLAIM} scope or asking for
 *       {@code MEMALLOC} may take every page.
 *   <li>A context that may not sleep ({@code NOWAIT}, {@code ATOMIC}, or a reclaiming task) fails here.
 *   <li>Direct reclaim: the allocating task itself calls the registered shrinkers with its effective
 *       context, in a {@code NORECLAIM} scope so their own allocations do not recurse, then retries.
 *       A shrinker may block (waiting for writeback, say): that is how allocation blocks in reclaim.
 *   <li>Without progress, the task sleeps until pages are freed or a back-off passes, and retries.
 *       {@code NORETRY} fails after one pass. After {@code reclaimRetries} passes in a row without
 *       progress ({@code should_reclaim_retry} giving up), what {@code __alloc_pages_may_oom} and the
 *       {@code nopage} path decide:
 *       <ul>
 *         <li>a costly allocation (more than {@value #COSTLY_PAGES} pages, order above
 *             {@code PAGE_ALLOC_COSTLY_ORDER}) or a {@code RETRY_MAYFAIL} one fails;
 *         <li>a {@code NOFAIL} one never fails: it waits and retries for as long as it takes,
 *             at the min watermark (the kernel would let it into the reserves here; this model
 *             does not, docs/ARCHITECTURE.md);
 *         <li>one that may not enter the filesystem ({@code GFP_NOFS}, {@code GFP_NOIO}, or any
 *             context under such a scope) is "too small to fail": the kernel's {@code out_of_memory}
 *             reports progress for it without killing anything, so it retries for as long as it
 *             takes, like {@code NOFAIL} but without the reserves;
 *         <li>a plain {@code GFP_KERNEL} one fails: the kernel would call the OOM killer, and this
 *             model has none (docs/ARCHITECTURE.md).
 *       </ul>
 * </ol>
 * Allocating with a sleeping context from atomic context throws
 * {@link dev.rescuer.core.platform.AtomicContextException}, whether or not memory is short.
 *
 * <p><b>Background reclaim.</b> kswapd, started by {@link #startBackgroundReclaim()}, sleeps until an
 * allocation finds free pages below {@code low}, then runs the shrinkers with {@code GFP_KERNEL}
 * until free pages reach {@code high} or a pass makes no progress. After {@code reclaimRetries}
 * fruitless runs it stops answering wake-ups until pages are freed up to {@code high} or direct
 * reclaim makes progress, like the kernel's {@code kswapd_failures}.
 *
 * <p><b>Accounting.</b> Every allocation returns a {@link Pages} handle; frees go through it, so
 * double frees and over-frees are errors. {@link #stats()} counts everything; free and used pages
 * are kept in separate counters so that their balance is a real check.
 *
 * <p>All blocking goes through the platform, via a {@link WaitQueue} ({@code "<name>/free"}) that
 * frees wake, and the shrinker list is guarded by an {@link RwSemaphore} that reclaim only try-locks,
 * as the kernel's {@code shrinker_rwsem} was.
 *
 * <p><b>Memory ordering.</b> The free-page count is one atomic: an allocation takes pages with a
 * compare-and-set that fails if a concurrent one took them first, so the count never goes below a
 * floor it checked, and a free adds with {@code addAndGet}. The used count is a second atomic, moved
 * after the free count on allocation and before it on free, so {@code free + used <= total} holds
 * at every instant (their sum is exact once allocations and frees have returned). A free publishes
 * its pages with the atomic add and then wakes the {@code free} wait queue, whose full fence pairs
 * with the one a waiter issues after queueing: either the waker sees the waiter or the waiter's
 * condition sees the new count. The fault injector is volatile (set by tests, read per allocation);
 * statistics are {@code LongAdder}s (the per-shrinker, per-{@link Reclaimer} counts too, in a concurrent map), exact only when quiescent; the shrinker list is read and written
 * under {@code shrinkerRwsem}.
 */
public final class PageAllocator implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.mm");

    /** Reclaim aims for at least this many objects per pass ({@code SWAP_CLUSTER_MAX}). */
    static final int RECLAIM_CLUSTER = 32;

    private final Platform platform;
    private final String name;
    private final long total;
    private final long minMark;
    private final long lowMark;
    private final long highMark;
    private final int reclaimRetries;
    private final Duration retryBackoff;
    private final int shrinkBatch;
    private final boolean mergeNofsNoio;

    /** Free pages ({@code NR_FREE_PAGES}). Atomic: changed by compare-and-set or add, by any task. */
    private final AtomicLong free;
    /** Pages handed out and not yet freed. Atomic; see the memory-ordering note. */
    private final AtomicLong used = new AtomicLong();
    /** Atomic: numbers each {@link Pages} handle. */
    private final AtomicLong nextAllocationId = new AtomicLong(1);

    private final RwSemaphore shrinkerRwsem;
    private final List<ShrinkerRegistration> shrinkers = new ArrayList<>(); // guarded by shrinkerRwsem
    private final WaitQueue freeWait;
    private final Kswapd kswapd;
    /** Set once, by the first failure that warns (the kernel's rate limit, reduced to one). Atomic. */
    private final AtomicBoolean failureWarned = new AtomicBoolean();
    /** Volatile: set by tests, read on every allocation. */
    private volatile AllocationFaultInjector faultInjector;

    private final LongAdder allocations = new LongAdder();
    private final LongAdder pagesAllocated = new LongAdder();
    private final LongAdder pagesFreed = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder slowPaths = new LongAdder();
    private final LongAdder directReclaims = new LongAdder();
    private final LongAdder reclaimedObjects = new LongAdder();
    private final LongAdder memoryWaits = new LongAdder();
    /**
     * Objects each shrinker (by name) reported freed, one adder per {@link Reclaimer}, indexed by its
     * ordinal. Lock-free: a reclaim pass adds, {@link #reclaimed} reads; a name's row is created once.
     */
    private final ConcurrentMap<String, LongAdder[]> reclaimedByShrinker = new ConcurrentHashMap<>();

    private PageAllocator(Builder b) {
        this.platform = b.platform;
        this.name = b.name;
        this.total = b.totalPages;
        long min = b.minMark >= 0 ? b.minMark : total / 32;
        long low = b.lowMark >= 0 ? b.lowMark : min + Math.max(1, min / 4);
        long high = b.highMark >= 0 ? b.highMark : min + Math.max(2, min / 2);
        if (!(0 <= min && min <= low && low <= high && high < total)) {
            throw new IllegalArgumentException("page allocator " + name + ": watermarks must satisfy 0 <= min <= low <= high < total, got min="
                    + min + " low=" + low + " high=" + high + " total=" + total);
        }
        this.minMark = min;
        this.lowMark = low;
        this.highMark = high;
        this.reclaimRetries = b.reclaimRetries;
        this.retryBackoff = b.retryBackoff;
        this.shrinkBatch = b.shrinkBatch;
        this.mergeNofsNoio = b.mergeNofsNoio;
        this.free = new AtomicLong(total);
        this.shrinkerRwsem = new RwSemaphore(platform, name + "/shrinker_rwsem", "shrinker_rwsem");
        this.freeWait = new WaitQueue(platform, name + "/free", "page_alloc_free");
        this.kswapd = new Kswapd(this, platform, name);
    }

    /** Starts configuring an allocator on {@code platform}. */
    public static Builder builder(Platform platform) {
        return new Builder(platform);
    }

    /** Configures a {@link PageAllocator}. {@link #totalPages} is required; the rest have defaults. */
    public static final class Builder {
        private final Platform platform;
        private String name = "pages";
        private long totalPages = -1;
        private long minMark = -1;
        private long lowMark = -1;
        private long highMark = -1;
        private int reclaimRetries = 16;
        private Duration retryBackoff = Duration.ofMillis(10);
        private int shrinkBatch = 128;
        private boolean mergeNofsNoio;

        private Builder(Platform platform) {
            if (platform == null) {
                throw new NullPointerException("platform");
            }
            this.platform = platform;
        }

        /** The allocator's name, for reports and the names of its primitives. Default {@code "pages"}. */
        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("page allocator name must be non-blank");
            }
            this.name = name;
            return this;
        }

        /** The budget, in pages. Required, at least 2. */
        public Builder totalPages(long pages) {
            if (pages < 2) {
                throw new IllegalArgumentException("totalPages must be >= 2, got " + pages);
            }
            this.totalPages = pages;
            return this;
        }

        /**
         * The watermarks, in free pages: {@code 0 <= min <= low <= high < total}. Default: min is
         * 1/32 of the budget, low is min + min/4 (at least min + 1), high is min + min/2 (at least min + 2).
         */
        public Builder watermarks(long min, long low, long high) {
            if (min < 0 || low < 0 || high < 0) {
                throw new IllegalArgumentException("watermarks must be >= 0, got min=" + min + " low=" + low + " high=" + high);
            }
            this.minMark = min;
            this.lowMark = low;
            this.highMark = high;
            return this;
        }

        /** Reclaim passes without progress before an allocation that may fail gives up. Default 16 ({@code MAX_RECLAIM_RETRIES}). */
        public Builder reclaimRetries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("reclaimRetries must be >= 0, got " + retries);
            }
            this.reclaimRetries = retries;
            return this;
        }

        /** How long an allocation sleeps after a pass without progress, unless pages are freed first. Default 10 ms. */
        public Builder retryBackoff(Duration backoff) {
            if (backoff == null || backoff.isNegative() || backoff.isZero()) {
                throw new IllegalArgumentException("retryBackoff must be positive, got " + backoff);
            }
            this.retryBackoff = backoff;
            return this;
        }

        /**
         * Patocka's proposal (seed 003): every context without {@code __GFP_FS} also loses
         * {@code __GFP_IO}, so {@code GFP_NOFS} and a {@code NOFS} scope behave as {@code NOIO}
         * ({@link Gfp#scopedBy(int, boolean)}). A setting of this allocator, not of the kernel: upstream
         * never merged it. Default off.
         */
        public Builder mergeNofsNoio(boolean on) {
            this.mergeNofsNoio = on;
            return this;
        }

        /** Objects per shrinker scan call. Default 128 ({@code SHRINK_BATCH}). */
        public Builder shrinkBatch(int batch) {
            if (batch < 1) {
                throw new IllegalArgumentException("shrinkBatch must be >= 1, got " + batch);
            }
            this.shrinkBatch = batch;
            return this;
        }

        /** Builds the allocator. Background reclaim is not started; see {@link PageAllocator#startBackgroundReclaim()}. */
        public PageAllocator build() {
            if (totalPages < 0) {
                throw new IllegalStateException("page allocator " + name + ": totalPages is required");
            }
            return new PageAllocator(this);
        }
    }

    // ------------------------------------------------------------------ allocation

    /**
     * Allocates {@code n} pages in context {@code gfp}, reclaiming and waiting as the context allows.
     *
     * @throws PageAllocationException if the context allowed failure and no pages could be found
     * @throws IllegalArgumentException if {@code n} is not in {@code [1, totalPages]}
     * @throws dev.rescuer.core.platform.AtomicContextException if {@code gfp} may sleep and the task is atomic
     */
    public Pages allocate(int n, Gfp gfp) {
        return allocateOrExplain(n, gfp, true);
    }

    /** Like {@link #allocate}, but returns {@code null} on failure, as the kernel's allocators do. */
    public Pages tryAllocate(int n, Gfp gfp) {
        return allocateOrExplain(n, gfp, false);
    }

    private Pages allocateOrExplain(int n, Gfp gfp, boolean throwOnFailure) {
        if (n < 1 || n > total) {
            throw new IllegalArgumentException("cannot allocate " + n + " pages from " + name + " (budget " + total + ")");
        }
        if (gfp == null) {
            throw new NullPointerException("gfp");
        }
        Task self = platform.currentTask();
        Gfp eff = gfp.scopedBy(self.memallocFlags(), mergeNofsNoio);
        if (eff.mayDirectReclaim()) {
            self.checkMaySleep(freeWait, "page allocation (" + gfp + ")");
        }
        platform.preemptionPoint();
        LockEvents ev = platform.lockEvents();
        if (ev != null && eff.mayFs() && eff.mayDirectReclaim() && (self.memallocFlags() & MemallocScope.NORECLAIM) == 0) {
            // fs_reclaim_acquire/release (mm/page_alloc.c): this allocation could enter reclaim.
            ev.acquire(self, LockEvents.FS_RECLAIM, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, LockEvents.FS_RECLAIM);
        }
        String why;
        AllocationFaultInjector injector = faultInjector;
        if (injector != null && !eff.has(Gfp.Modifier.NOFAIL) && injector.shouldFail(n, eff, self)) {
            why = "injected failure";
        } else {
            if (take(n, lowMark)) {
                return granted(n, gfp, self);
            }
            why = slowPath(n, eff, self);
            if (why == null) {
                return granted(n, gfp, self);
            }
        }
        failures.increment();
        String msg = "page allocation failure: " + n + " pages, " + gfp
                + (eff.equals(gfp) ? "" : " (effective " + eff + " under task scopes " + MemallocScope.describeFlags(self.memallocFlags()) + ")")
                + ", task " + self.name() + ", " + free.get() + " of " + total + " free (min " + minMark + ", low " + lowMark
                + ", high " + highMark + "): " + why;
        if (!eff.has(Gfp.Modifier.NOWARN) && failureWarned.compareAndSet(false, true)) {
            LOG.log(Level.WARNING, msg + " (further failures are counted, not logged)");
        }
        if (throwOnFailure) {
            throw new PageAllocationException(msg);
        }
        return null;
    }

    private Pages granted(int n, Gfp gfp, Task self) {
        used.addAndGet(n);
        allocations.increment();
        pagesAllocated.add(n);
        return new Pages(this, nextAllocationId.getAndIncrement(), n, gfp, self.name());
    }

    /** Takes {@code n} pages if at least {@code floor} stay free. */
    private boolean take(int n, long floor) {
        while (true) {
            long f = free.get();
            if (f - n < floor) {
                return false;
            }
            if (free.compareAndSet(f, f - n)) {
                return true;
            }
        }
    }

    /**
     * The kernel's watermark adjustments ({@code __zone_watermark_ok}): {@code HIGH} halves min
     * ({@code ALLOC_MIN_RESERVE}); a {@code HIGH} allocation that may not sleep takes a further
     * quarter ({@code ALLOC_NON_BLOCK}), unless it says {@code NOMEMALLOC} ({@code gfp_to_alloc_flags}:
     * "not worth trying to allocate harder for __GFP_NOMEMALLOC even if it can't schedule").
     */
    private long minMarkFor(Gfp eff) {
        long m = minMark;
        if (eff.has(Gfp.Modifier.HIGH)) {
            m -= m / 2;
            if (!eff.mayDirectReclaim() && !eff.has(Gfp.Modifier.NOMEMALLOC)) {
                m -= m / 4;
            }
        }
        return m;
    }

    /** Pages above which an allocation is "costly" ({@code PAGE_ALLOC_COSTLY_ORDER} 3: order 3 is 8 pages). */
    static final int COSTLY_PAGES = 1 << 3;

    /** @return {@code null} when the pages were taken, otherwise why the allocation fails */
    private String slowPath(int n, Gfp eff, Task self) {
        slowPaths.increment();
        long mark = minMarkFor(eff);
        boolean reclaiming = (self.memallocFlags() & MemallocScope.NORECLAIM) != 0;
        boolean reserves = (eff.has(Gfp.Modifier.MEMALLOC) || reclaiming) && !eff.has(Gfp.Modifier.NOMEMALLOC);
        boolean mayReclaim = eff.mayDirectReclaim() && !reclaiming;
        int fruitless = 0;
        while (true) {
            if (eff.mayWakeKswapd()) {
                kswapd.wake();
            }
            if (take(n, mark) || (reserves && take(n, 0))) {
                return null;
            }
            if (!mayReclaim) {
                if (!eff.has(Gfp.Modifier.NOFAIL)) {
                    return reclaiming ? "the task is itself reclaiming (NORECLAIM scope) and the reserves are exhausted"
                            : "the context may not sleep, so it may not reclaim";
                }
                waitForFree(n, reserves ? 0 : mark);
                continue;
            }
            long progress = directReclaim(n, eff);
            if (take(n, mark) || (reserves && take(n, 0))) {
                return null;
            }
            if (eff.has(Gfp.Modifier.NORETRY)) {
                return "__GFP_NORETRY: one reclaim pass freed " + progress + " objects, not enough";
            }
            fruitless = progress > 0 ? 0 : fruitless + 1;
            if (fruitless > reclaimRetries) {
                // should_reclaim_retry gave up: what __alloc_pages_may_oom and the nopage path decide.
                String why = reclaimRetries + " reclaim passes in a row made no progress";
                // NOFAIL never fails: it waits at min and retries (the kernel would also let it into
                // the reserves here; not modelled, docs/ARCHITECTURE.md, "No OOM killer").
                if (!eff.has(Gfp.Modifier.NOFAIL)) {
                    if (n > COSTLY_PAGES || eff.has(Gfp.Modifier.RETRY_MAYFAIL)) {
                        return why; // __alloc_pages_may_oom skips the OOM path for these: they fail
                    }
                    if (eff.mayFs()) {
                        // The kernel would call the OOM killer here and retry; this model has none.
                        return why + " (no OOM killer)";
                    }
                    // Too small to fail: out_of_memory returns true for an allocation that may not
                    // enter the filesystem ("does not compensate for IO-less reclaim"), so it retries.
                }
                fruitless = 0;
            }
            if (progress == 0) {
                waitForFree(n, mark);
            }
        }
    }

    /** Sleeps until {@code n} pages could be taken above {@code mark}, or the back-off passes. */
    private void waitForFree(int n, long mark) {
        memoryWaits.increment();
        freeWait.waitEventTimeout(() -> free.get() - n >= mark, retryBackoff);
    }

    /** Runs the shrinkers in the allocating task, as the reclaimer ({@code __perform_reclaim}). */
    private long directReclaim(int n, Gfp eff) {
        directReclaims.increment();
        long progress;
        try (MemallocScope s = MemallocScope.noreclaim(platform)) {
            progress = shrink(Math.max(n, RECLAIM_CLUSTER), eff, Reclaimer.direct(eff));
        }
        if (progress > 0) {
            kswapd.resetFailures();
        }
        return progress;
    }

    /**
     * One reclaim pass over the shrinkers ({@code shrink_slab}): each is counted and scanned in
     * batches until {@code target} objects are freed, and what each frees is counted for {@code who}.
     * Returns the objects freed.
     */
    long shrink(long target, Gfp eff, Reclaimer who) {
        // __perform_reclaim and balance_pgdat hold fs_reclaim while the shrinkers run, when the
        // context allows __GFP_FS; the validator learns what reclaim waits on under it.
        LockEvents ev = eff.mayFs() ? platform.lockEvents() : null;
        if (ev == null) {
            return shrinkLocked(target, eff, who);
        }
        Task self = platform.currentTask();
        ev.acquire(self, LockEvents.FS_RECLAIM, LockEvents.EXCLUSIVE, 0, false);
        try {
            return shrinkLocked(target, eff, who);
        } finally {
            ev.release(self, LockEvents.FS_RECLAIM);
        }
    }

    private long shrinkLocked(long target, Gfp eff, Reclaimer who) {
        if (!shrinkerRwsem.tryDownRead()) {
            return 0; // a shrinker is being (un)registered; the kernel skipped slab reclaim then too
        }
        long freed = 0;
        try {
            ShrinkControl sc = new ShrinkControl(eff);
            outer:
            for (ShrinkerRegistration r : shrinkers) {
                Shrinker s = r.shrinker();
                sc.setNrToScan(0);
                long count = s.count(sc);
                for (long left = count; left > 0; ) {
                    long batch = Math.min(shrinkBatch, left);
                    sc.setNrToScan(batch);
                    long got = s.scan(sc);
                    if (got == Shrinker.STOP) {
                        break;
                    }
                    if (got < 0) {
                        throw new IllegalStateException("shrinker " + s.name() + " returned " + got + " from scan; expected >= 0 or STOP");
                    }
                    freed += got;
                    if (got > 0) {
                        reclaimedByShrinker.computeIfAbsent(s.name(), k -> newRow())[who.ordinal()].add(got);
                    }
                    left -= batch;
                    if (freed >= target) {
                        break outer;
                    }
                }
            }
        } finally {
            shrinkerRwsem.upRead();
        }
        reclaimedObjects.add(freed);
        return freed;
    }

    // ------------------------------------------------------------------ free

    /**
     * The context an allocation asking for {@code gfp} runs with in the current task
     * ({@code current_gfp_context}): the task's scopes applied, and this allocator's
     * {@link Builder#mergeNofsNoio} setting.
     */
    public Gfp currentGfpContext(Gfp gfp) {
        return gfp.scopedBy(platform.currentTask().memallocFlags(), mergeNofsNoio);
    }

    /** Whether every NOFS context also clears {@code __GFP_IO} here ({@link Builder#mergeNofsNoio}). */
    public boolean mergeNofsNoio() {
        return mergeNofsNoio;
    }

    private static LongAdder[] newRow() {
        LongAdder[] row = new LongAdder[Reclaimer.values().length];
        for (int i = 0; i < row.length; i++) {
            row[i] = new LongAdder();
        }
        return row;
    }

    /**
     * Objects the shrinkers reported freed since the allocator was built, by shrinker name
     * ({@link Shrinker#name}, sorted) and by who reclaimed ({@link Reclaimer}); a shrinker that never
     * freed anything is absent, and so is a reclaimer that freed nothing from it. Exact when
     * quiescent, like {@link #stats()}. For a page cache or a swap area an object is a page.
     */
    public Map<String, Map<Reclaimer, Long>> reclaimed() {
        Map<String, Map<Reclaimer, Long>> out = new TreeMap<>();
        reclaimedByShrinker.forEach((shrinker, row) -> {
            Map<Reclaimer, Long> m = new EnumMap<>(Reclaimer.class);
            for (Reclaimer r : Reclaimer.values()) {
                long n = row[r.ordinal()].sum();
                if (n > 0) {
                    m.put(r, n);
                }
            }
            out.put(shrinker, m);
        });
        return out;
    }

    /** Objects shrinker {@code shrinker} (by name) reported freed in passes run by {@code who}. */
    public long reclaimed(String shrinker, Reclaimer who) {
        LongAdder[] row = reclaimedByShrinker.get(shrinker);
        return row == null ? 0 : row[who.ordinal()].sum();
    }

    /** Objects every shrinker reported freed in passes run by {@code who}. */
    public long reclaimed(Reclaimer who) {
        long n = 0;
        for (LongAdder[] row : reclaimedByShrinker.values()) {
            n += row[who.ordinal()].sum();
        }
        return n;
    }

    /** Returns pages from a {@link Pages} handle. */
    void release(int n) {
        used.addAndGet(-n);
        long f = free.addAndGet(n);
        pagesFreed.add(n);
        if (f >= highMark) {
            kswapd.resetFailures();
        }
        freeWait.wakeUpAll();
    }

    // ------------------------------------------------------------------ shrinkers

    /**
     * Installs a fault injector consulted by every allocation that may fail (not {@code NOFAIL}) before
     * it takes any page, like the kernel's {@code fail_page_alloc}; {@code null} removes it. An
     * injected failure is counted and reported like any other.
     */
    public void setFaultInjector(AllocationFaultInjector injector) {
        this.faultInjector = injector;
    }

    /**
     * Registers a shrinker; reclaim passes that start afterwards call it.
     *
     * @return the registration; close it to unregister
     */
    public ShrinkerRegistration registerShrinker(Shrinker shrinker) {
        if (shrinker == null) {
            throw new NullPointerException("shrinker");
        }
        ShrinkerRegistration r = new ShrinkerRegistration(this, shrinker);
        shrinkerRwsem.downWrite();
        try {
            shrinkers.add(r);
        } finally {
            shrinkerRwsem.upWrite();
        }
        return r;
    }

    void unregister(ShrinkerRegistration r) {
        shrinkerRwsem.downWrite(); // waits for running passes; throws if called from one
        try {
            shrinkers.remove(r);
        } finally {
            shrinkerRwsem.upWrite();
        }
    }

    // ------------------------------------------------------------------ background reclaim

    /**
     * Starts kswapd, the background reclaimer, as a platform thread (which itself costs pages if a
     * thread-start cost is installed).
     *
     * @throws IllegalStateException if it is already running or the allocator is closed
     */
    public void startBackgroundReclaim() {
        kswapd.start();
    }

    /** Whether free pages have reached the high watermark, where kswapd stops. */
    boolean balanced() {
        return free.get() >= highMark;
    }

    long pagesToHigh() {
        return Math.max(0, highMark - free.get());
    }

    /** Stops kswapd and waits for it to exit. Pages still allocated stay accounted. Idempotent. */
    @Override
    public void close() {
        kswapd.stop();
    }

    // ------------------------------------------------------------------ observation

    /** The allocator's name. */
    public String name() {
        return name;
    }

    /** The platform it blocks through. */
    public Platform platform() {
        return platform;
    }

    /** The budget, in pages. */
    public long totalPages() {
        return total;
    }

    /** Pages not allocated right now. */
    public long freePages() {
        return free.get();
    }

    /** The min watermark. */
    public long minWatermark() {
        return minMark;
    }

    /** The low watermark. */
    public long lowWatermark() {
        return lowMark;
    }

    /** The high watermark. */
    public long highWatermark() {
        return highMark;
    }

    /** The task running kswapd, or {@code null} if background reclaim is not running. */
    public Task kswapdTask() {
        return kswapd.task();
    }

    /** A snapshot of the counters. */
    public PageStats stats() {
        return new PageStats(total, free.get(), used.get(), allocations.sum(), pagesAllocated.sum(), pagesFreed.sum(),
                failures.sum(), slowPaths.sum(), directReclaims.sum(), reclaimedObjects.sum(),
                kswapd.wakeups(), kswapd.runs(), memoryWaits.sum());
    }

    /** How many reclaim passes kswapd may fail before it stops answering wake-ups. */
    int reclaimRetries() {
        return reclaimRetries;
    }

    @Override
    public String toString() {
        return "PageAllocator[" + name + ": " + free.get() + "/" + total + " free, min " + minMark + ", low " + lowMark + ", high " + highMark + "]";
    }
}
