package dev.rescuer.storage.writeback;

import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.storage.pagecache.PageCache;

import java.util.concurrent.atomic.LongAdder;

/**
 * The global dirty limits and the throttle that enforces them: {@code global_dirty_limits} and
 * {@code balance_dirty_pages} of {@code mm/page-writeback.c}, for one {@code wb_domain} (the whole
 * system).
 *
 * <p><b>Limits.</b> Dirtyable memory is free pages plus page-cache pages minus the reserve
 * ({@code global_dirtyable_memory}; the reserve here is the allocator's high watermark, as
 * {@code totalreserve_pages} is built from the zones' high watermarks). The dirty threshold is
 * {@code dirtyRatio}% of it ({@code vm.dirty_ratio}), the background threshold
 * {@code backgroundRatio}% ({@code vm.dirty_background_ratio}), at least one page each, and the
 * background threshold is halved below the dirty one if set at or above it, as the kernel does.
 *
 * <p><b>Throttling.</b> {@link #balanceDirtyPages} counts dirty plus writeback pages, as the kernel
 * does. Below the freerun ceiling (halfway between the two thresholds) the writer goes on. Above it,
 * the writer starts background writeback on its device if none is in progress. Above the dirty
 * threshold it sleeps on the throttle's wait queue until dirty plus writeback pages fall to the
 * threshold again, or until no page is under writeback and the writeback item is idle (then it
 * queues the item again: the threshold falls when free memory does, so it can drop below what is
 * dirty after the item stopped); every end of writeback and every end of the item wakes it.
 *
 * <p><b>Differences, on purpose.</b> The kernel paces writers between the freerun ceiling and the
 * limit with pauses computed from each device's measured bandwidth (at most 200 ms each, then it
 * re-evaluates); there is no bandwidth estimate here, so between the ceiling and the limit the
 * writer is not paused at all, and above the limit it waits for the condition itself rather than in
 * timed pauses. The wait is woken by every writeback completion, so it ends exactly when a timed
 * loop would first see the condition hold. There are no per-device (per-bdi) shares of the limit,
 * no memcg domains, no {@code PF_LOCAL_THROTTLE} and no {@code strictlimit}.
 *
 * <p><b>Memory ordering.</b> The wait condition reads the page cache's volatile counters and the
 * allocator's atomic free count; {@link #writebackEnded} runs after the page cache decremented
 * {@code NR_WRITEBACK} and wakes through a fencing {@link WaitQueue#wakeUpAll()}, so a waiter never
 * misses the decrease.
 */
public final class DirtyThrottle {

    /** The kernel's default {@code vm.dirty_ratio}. */
    public static final int DEFAULT_DIRTY_RATIO = 20;
    /** The kernel's default {@code vm.dirty_background_ratio}. */
    public static final int DEFAULT_BACKGROUND_RATIO = 10;

    private final PageCache cache;
    private final PageAllocator allocator;
    private final int dirtyRatio;
    private final int backgroundRatio;
    private final WaitQueue throttleWait;
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
        this.throttleWait = new WaitQueue(cache.platform(), allocator.name() + "/balance_dirty_pages", "balance_dirty_pages");
        this.throttleWait.setOwner(this);
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

    /** Whether dirty pages exceed the background threshold ({@code wb_over_bg_thresh}). */
    public boolean overBackgroundThresh() {
        return cache.nrDirty() > backgroundThresh();
    }

    /** How many times a writer had to sleep in {@link #balanceDirtyPages}. */
    public long throttledCount() {
        return throttled.sum();
    }

    /** The wait queue throttled writers sleep on, for reports. */
    public WaitQueue throttleWait() {
        return throttleWait;
    }

    /**
     * Throttles the calling writer, which just dirtied a page on {@code wb}'s device, as above.
     * Must be called without filesystem locks or a transaction held, as the kernel calls it after
     * {@code write_end}.
     */
    public void balanceDirtyPages(BdiWriteback wb) {
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
            if (dirty <= thresh) {
                return;
            }
            throttled.increment();
            // Woken by every end of writeback and every end of the writeback item; also returns to
            // queue the item again when nothing is in flight that would wake it.
            throttleWait.waitEvent(() -> cache.nrDirty() + cache.nrWriteback() <= dirtyThresh()
                    || (cache.nrWriteback() == 0 && !wb.writebackInProgress()));
        }
    }

    /** Pages finished writeback: throttled writers re-check. Never sleeps. */
    void writebackEnded() {
        throttleWait.wakeUpAll();
    }
}
