package dev.rescuer.storage.pagecache;

/**
 * A snapshot of a {@link PageCache}'s counters, all taken under its lock so that they balance:
 * <ul>
 *   <li>{@code pagesAllocated == pagesFreed + nrFilePages} (no page lost or freed twice);
 *   <li>{@code pagesDirtied == writebackStarted + nrDirty} (every page dirtied is written back or
 *       still dirty: pages are never dropped dirty);
 *   <li>{@code writebackStarted == writebackEnded + nrWriteback}.
 * </ul>
 *
 * @param nrFilePages pages in the cache now ({@code NR_FILE_PAGES})
 * @param nrDirty dirty pages now ({@code NR_FILE_DIRTY})
 * @param nrWriteback pages under writeback now ({@code NR_WRITEBACK})
 * @param pagesAllocated pages ever allocated for the cache
 * @param pagesFreed pages ever freed from the cache (reclaim, invalidation)
 * @param pagesDirtied clean-to-dirty transitions ever
 * @param writebackStarted dirty-to-writeback transitions ever
 * @param writebackEnded writebacks ever ended, with or without error
 * @param writebackErrors writebacks that ended with an error (the data is lost, as in the kernel)
 * @param readsIssued read bios ever submitted
 */
public record PageCacheStats(long nrFilePages, long nrDirty, long nrWriteback, long pagesAllocated, long pagesFreed,
                             long pagesDirtied, long writebackStarted, long writebackEnded, long writebackErrors,
                             long readsIssued) {

    /** Whether the three balances above hold. */
    public boolean balances() {
        return pagesAllocated == pagesFreed + nrFilePages
                && pagesDirtied == writebackStarted + nrDirty
                && writebackStarted == writebackEnded + nrWriteback;
    }
}
