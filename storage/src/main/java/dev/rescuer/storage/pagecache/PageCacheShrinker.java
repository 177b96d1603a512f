package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reclaim of page-cache pages: the file-LRU half of {@code shrink_folio_list} in {@code mm/vmscan.c},
 * run by the allocator in the reclaiming task (direct reclaim, or kswapd) with that task's
 * effective context.
 *
 * <p>For each page taken off the LRU head ({@code isolate_lru_folios}):
 * <ul>
 *   <li>clean, not under writeback, not locked: freed ({@code __remove_mapping}), whatever the context;
 *   <li>dirty, in kswapd, with a context that may enter the filesystem and do I/O
 *       ({@code may_enter_fs}), of a mapping that still has {@code ->writepage}
 *       ({@link AddressSpaceOperations#writepageFromReclaim()}): written out here without waiting
 *       ({@code pageout} with {@code wbc.for_reclaim}); the page goes back on the LRU and is freed by
 *       a later pass once clean;
 *   <li>dirty otherwise: left alone. Direct reclaim never writes filesystem pages (its stack is too
 *       deep), and current filesystems give kswapd no {@code ->writepage} either; if every page a
 *       pass took was dirty and not yet queued for writeback ({@code nr_unqueued_dirty == nr_taken}),
 *       it wakes the flusher of those pages' devices ({@code wakeup_flusher_threads(WB_REASON_VMSCAN)}),
 *       which only queues work;
 *   <li>under writeback or being read: left alone.
 * </ul>
 * It never waits. Current vmscan waits for writeback only in legacy (cgroup v1) memcg reclaim
 * ({@code folio_wait_writeback} under {@code writeback_throttling_sane}), which is not modelled;
 * the wait the kernel does have, {@code reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)}, is the
 * allocator's own back-off sleep between fruitless passes. So the allocating task never waits on a
 * writeback item from inside this shrinker; it waits for memory, which writeback frees.
 *
 * <p>Left out on purpose: the kernel's further conditions before kswapd writes a page
 * ({@code PGDAT_DIRTY}, {@code PG_reclaim} from an earlier pass): for a mapping with
 * {@code ->writepage}, kswapd here writes every dirty page it meets.
 */
public final class PageCacheShrinker implements Shrinker {

    private final PageCache cache;

    PageCacheShrinker(PageCache cache) {
        this.cache = cache;
    }

    @Override
    public String name() {
        return "pagecache";
    }

    /** The pages on the LRU; never blocks. */
    @Override
    public long count(ShrinkControl control) {
        return cache.nrFilePages();
    }

    /** Frees the clean pages among the next {@code nrToScan} and deals with the dirty ones as above. */
    @Override
    public long scan(ShrinkControl control) {
        boolean kswapd = cache.platform().currentTask() == cache.allocator().kswapdTask();
        boolean mayPageout = kswapd && control.gfp().mayFs() && control.gfp().mayIo();
        List<Folio> freed = new ArrayList<>();
        List<Folio> pageout = new ArrayList<>();
        Set<InodeWriteback> flushers = new LinkedHashSet<>();
        long unqueuedDirty = 0;
        int taken;
        cache.lock.lock();
        try {
            List<Folio> isolated = cache.isolateLocked(control.nrToScan());
            taken = isolated.size();
            for (Folio f : isolated) {
                if (f.isReclaimable()) {
                    cache.reclaimIsolatedLocked(f);
                    freed.add(f);
                    continue;
                }
                if (f.dirty && !f.writeback && !f.locked) {
                    if (mayPageout && f.mapping().aops().writepageFromReclaim()) {
                        f.mapping().startWritebackLocked(f);
                        pageout.add(f);
                    } else {
                        unqueuedDirty++;
                        flushers.add(f.mapping().writeback());
                    }
                }
                cache.putbackLocked(f);
            }
        } finally {
            cache.lock.unlock();
        }
        for (Folio f : freed) {
            f.page.free();
        }
        for (Folio f : pageout) {
            f.mapping().submitWrite(f, 0, "pageout ");
        }
        if (taken > 0 && unqueuedDirty == taken) {
            for (InodeWriteback wb : flushers) {
                wb.wakeupFlusher(unqueuedDirty);
            }
        }
        return freed.size();
    }
}
