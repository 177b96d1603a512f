package dev.rescuer.storage.writeback;

import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.storage.pagecache.PageCache;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The global dirty limits and the throttle that enforces them: {@code global_dirty_limits},
 * {@code wb_dirty_limits} and {@code balance_dirty_pages} of {@code mm/page-writeback.c}, for one
 * {@code wb_domain} (the whole system).
 *
 * <p><b>Limits.</b> Dirtyable memory is free pages plus page-cache pages minus the reserve
 * ({@code global_dirtyable_memory}; the reserve here is the allocator's high watermark, as
 * {@code totalreserve_pages} is built from the zones' high watermarks). The dirty threshold is
 * {@code dirtyRatio}% of it ({@code vm.dirty_ratio}), the background threshold
 * {@code backgroundRatio}% ({@code vm.dirty_background_ratio}), at least one page each, and the
 * background threshold is halved below the dirty one if set at or above it, as the kernel does.
 *
 * <p><b>A device's share</b> ({@code __wb_calc_thresh}). Each device's writeback ({@link BdiWriteback})
 * gets the part of the dirty threshold that its share of the domain's writeout completions gives it
 * (its {@code wb->completions} over the domain's {@code dom->completions}, counted by
 * {@link #writeoutAdd} as {@code __wb_writeout_add} does), and the same part of the background
 * threshold ({@code wb_bg_thresh}); what it has dirty is its dirty plus writeback pages
 * ({@code wb_dirty}: {@code WB_RECLAIMABLE + WB_WRITEBACK}, the page cache's {@code WbStat}). A
 * device's background writeback goes on while the system's dirty pages exceed the background
 * threshold or the device's own exceed its share of it ({@link #overBackgroundThresh}), so a device
 * whose pages are the only dirty ones left is still written when the global count has fallen, as
 * {@code wb_over_bg_thresh} does.
 *
 * <p><b>Throttling.</b> {@link #balanceDirtyPages} counts dirty plus writeback pages, as the kernel
 * does. Below the freerun ceiling (halfway between the two thresholds) the writer goes on. Above it,
 * the writer starts background writeback on its device if none is in progress. A task with
 * {@link #PF_LOCAL_THROTTLE} (a loop device's worker, which writes on behalf of the device above it)
 * then goes on while its own device's {@code wb_dirty} is below the device's freerun ceiling
 * ({@code dirty_freerun_ceiling(wb_thresh, wb_bg_thresh)}), whatever the global state: the dirty pages
 * of the filesystem above, which only it can clean, do not hold it. Above the dirty threshold the
 * writer sleeps on its device's throttle wait queue ({@link BdiWriteback#throttleWait()}) until dirty
 * plus writeback pages fall to the threshold again, or until its device's writeback item is idle
 * while no page is under writeback or while the device has dirty pages that background writeback
 * would write (then it queues the item again, as the kernel's writer does after every pause: the
 * threshold falls when free memory does, so it can drop below what is dirty after the item stopped,
 * and the item may have looked before the writer's last page), or, with
 * {@code PF_LOCAL_THROTTLE}, until its device is below its freerun ceiling, or until its own device
 * has no page dirty or under writeback left: the kernel's writer at the hard limit leaves after a
 * pause once {@code wb_dirty <= wb_stat_error()} ("give the other good wb's a pipe to go through"),
 * the error being the per-CPU counters' slack, which these exact counters do not have. Every end of
 * writeback and every end of a writeback item wakes every device's queue.
 *
 * <p><b>Differences, on purpose.</b> The kernel paces writers between the freerun ceiling and the
 * limit with pauses computed from each device's measured bandwidth (at most 200 ms each, then it
 * re-evaluates); there is no bandwidth estimate here, so between the ceiling and the limit the
 * writer is not paused at all, and above the limit it waits for the condition itself rather than in
 * timed pauses. The wait is woken by every writeback completion, so it ends exactly when a timed
 * loop would first see the condition hold. A device's share counts every completion since boot: the
 * kernel's floating proportion halves the old ones every {@code VM_COMPLETIONS_PERIOD_LEN} (3 s);
 * {@code bdi_min_ratio}/{@code max_ratio} are not modelled (0 and 100). Left out: the hard limit
 * ({@code dom->dirty_limit}, which follows the threshold down slowly), memcg domains, {@code strictlimit}, and
 * {@code PF_LESS_THROTTLE} (before 5.9 loop's worker had that flag instead, which only raised its
 * thresholds by a quarter).
 *
 * <p><b>Memory ordering.</b> The wait condition reads the page cache's volatile counters (global and
 * per device), the allocator's atomic free count and the completion counters; {@link #writebackEnded}
 * and {@link #writeoutAdd} run after those changed and wake through a fencing
 * {@link WaitQueue#wakeUpAll()}, so a waiter never misses a decrease. The list of devices is
 * copy-on-write: a device registers once, when its writeback is created, before any writer uses it.
 */
public final class DirtyThrottle {

    /** The kernel's default {@code vm.dirty_ratio}. */
    public static final int DEFAULT_DIRTY_RATIO = 20;
    /** The kernel's default {@code vm.dirty_background_ratio}. */
    public static final int DEFAULT_BACKGROUND_RATIO = 10;
    /**
     * {@code PF_LOCAL_THROTTLE}, a bit of {@link dev.rescuer.core.platform.Task#flags()}: throttle the
     * task only against its own device's dirty pages, not the global state (5.9's a37b0715ddf3; set by
     * loop's worker, {@code loop_process_work}, and nfsd).
     */
    public static final int PF_LOCAL_THROTTLE = 1;

    private final PageCache cache;
    private final PageAllocator allocator;
    private final int dirtyRatio;
    private final int backgroundRatio;
    private final List<BdiWriteback> wbs = new CopyOnWriteArrayList<>();
    /** {@code dom->completions}: pages whose writeback ended, on every device. */
    private final LongAdder completions = new LongAdder();
    private final LongAdder throttled = new LongAdder();

    /**
     * A throttle for {@code cache} with the given ratios, in percent of dirtyable memory.
     *
     * @throws IllegalArgumentException if a ratio is not in 1..100
     */
    public DirtyThrottle(PageCache cache, int dirtyRatio, int backgroundRatio) {
        this.cache = cache;
        this.allocator = cache.allocator();
        this.dirtyRatio = checkRatio("dirty_ratio", dirtyRatio);
        this.backgroundRatio = checkRatio("dirty_background_ratio", backgroundRatio);
    }

    /** A throttle with the kernel's default ratios (20% and 10%). */
    public static DirtyThrottle withDefaults(PageCache cache) {
        return new DirtyThrottle(cache, DEFAULT_DIRTY_RATIO, DEFAULT_BACKGROUND_RATIO);
    }

    private static int checkRatio(String field, int ratio) {
        if (ratio < 1 || ratio > 100) {
            throw new IllegalArgumentException("vm." + field + " must be a percentage in 1..100, got " + ratio);
        }
        return ratio;
    }

    /** A device's writeback joins the domain ({@code wb_init}); its throttled writers are woken with the rest. */
    void register(BdiWriteback wb) {
        wbs.add(wb);
    }

    /** The page cache it throttles writers of. */
    public PageCache cache() {
        return cache;
    }

    /** Free plus page-cache pages minus the reserve, at least 1 ({@code global_dirtyable_memory}). */
    public long dirtyableMemory() {
        return Math.max(1, allocator.freePages() + cache.nrFilePages() - allocator.highWatermark());
    }

    /** The dirty threshold now, in pages. */
    public long dirtyThresh() {
        return Math.max(1, dirtyableMemory() * dirtyRatio / 100);
    }

    /** The background threshold now, in pages: below {@link #dirtyThresh()}. */
    public long backgroundThresh() {
        long thresh = dirtyThresh();
        long bg = Math.max(1, dirtyableMemory() * backgroundRatio / 100);
        return bg >= thresh ? thresh / 2 : bg;
    }

    /**
     * Whether {@code wb}'s background writeback should go on ({@code wb_over_bg_thresh}): dirty pages
     * exceed the background threshold, or the device's own dirty pages exceed its share of it.
     */
    public boolean overBackgroundThresh(BdiWriteback wb) {
        long bg = backgroundThresh();
        return cache.nrDirty() > bg || wb.stat().reclaimable() > wbThresh(wb, bg);
    }

    /**
     * {@code wb}'s share of dirty threshold {@code thresh} ({@code __wb_calc_thresh}): {@code thresh}
     * times its part of the domain's writeout completions; 0 before any completion.
     */
    public long wbThresh(BdiWriteback wb, long thresh) {
        long total = completions.sum();
        return total == 0 ? 0 : thresh * Math.min(wb.completions(), total) / total;
    }

    /**
     * Whether {@code wb}'s dirty plus writeback pages are below its freerun ceiling, halfway between
     * its shares of the two thresholds ({@code wb_dirty < dirty_freerun_ceiling(wb_thresh, wb_bg_thresh)},
     * with {@code wb_bg_thresh = wb_thresh * bg_thresh / thresh} as {@code wb_dirty_limits} computes it).
     */
    public boolean wbBelowFreerun(BdiWriteback wb) {
        long thresh = dirtyThresh();
        long wbThresh = wbThresh(wb, thresh);
        long wbBgThresh = wbThresh * backgroundThresh() / thresh;
        return wb.stat().dirty() < (wbThresh + wbBgThresh) / 2;
    }

    /** How many times a writer had to sleep in {@link #balanceDirtyPages}. */
    public long throttledCount() {
        return throttled.sum();
    }

    /**
     * Throttles the calling writer, which just dirtied a page on {@code wb}'s device, as above.
     * Must be called without filesystem locks or a transaction held, as the kernel calls it after
     * {@code write_end}.
     */
    public void balanceDirtyPages(BdiWriteback wb) {
        boolean localThrottle = (cache.platform().currentTask().flags() & PF_LOCAL_THROTTLE) != 0;
        while (true) {
            long dirty = cache.nrDirty() + cache.nrWriteback();
            long thresh = dirtyThresh();
            long bg = backgroundThresh();
            if (dirty <= (thresh + bg) / 2) {
                return; // dirty_freerun_ceiling
            }
            if (!wb.writebackInProgress()) {
                wb.startBackgroundWriteback();
            }
            if (localThrottle && wbBelowFreerun(wb)) {
                return; // LOCAL_THROTTLE tasks must not be throttled when below the per-wb freerun ceiling
            }
            if (dirty <= thresh) {
                return;
            }
            throttled.increment();
            // Woken by every end of writeback and every end of a writeback item; also returns to
            // queue the item again when it is idle and nothing is in flight that would wake the
            // writer, or its device has dirty pages background writeback would write (the kernel's
            // writer re-kicks the item after every pause), and leaves once its own device has
            // nothing dirty left ("give the other good wb's a pipe to go through").
            wb.throttleWait().waitEvent(() -> cache.nrDirty() + cache.nrWriteback() <= dirtyThresh()
                    || (!wb.writebackInProgress() && (cache.nrWriteback() == 0
                            || (wb.stat().reclaimable() > 0 && overBackgroundThresh(wb))))
                    || wb.stat().dirty() == 0
                    || (localThrottle && wbBelowFreerun(wb)));
            if (wb.stat().dirty() == 0) {
                return; // sdtc->wb_dirty <= wb_stat_error(): break, whatever the global state
            }
        }
    }

    /**
     * {@code pages} of {@code wb}'s device finished writeback ({@code __wb_writeout_add}): counted in
     * its share and the domain's, then throttled writers re-check. Never sleeps.
     */
    void writeoutAdd(BdiWriteback wb, int pages) {
        wb.writeoutAdd(pages);
        completions.add(pages);
        writebackEnded();
    }

    /** Pages finished writeback or a writeback item ended: throttled writers re-check. Never sleeps. */
    void writebackEnded() {
        for (BdiWriteback wb : wbs) {
            wb.throttleWait().wakeUpAll();
        }
    }
}
