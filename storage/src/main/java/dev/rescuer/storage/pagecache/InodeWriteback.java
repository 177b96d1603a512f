package dev.rescuer.storage.pagecache;

/**
 * What an {@link AddressSpace} tells the writeback of its device about its dirty pages: the calls
 * the kernel's page cache makes into {@code fs/fs-writeback.c} and {@code mm/page-writeback.c}.
 * Implemented by {@code writeback.BdiWriteback}; {@link #NONE} is for mappings nobody writes back in
 * the background (a read-only mount).
 *
 * <p>Every method is called without page-cache locks held. {@link #writebackEnded} runs in bio
 * end-io, which may be atomic, so it must not sleep; {@link #wakeupFlusher} runs inside reclaim, so
 * it must not sleep or allocate either. Only {@link #balanceDirtyPagesRatelimited} may sleep.
 */
public interface InodeWriteback {

    /** The first page of {@code mapping} became dirty ({@code __mark_inode_dirty(inode, I_DIRTY_PAGES)}). */
    void markInodeDirty(AddressSpace mapping);

    /**
     * A writer dirtied a page of {@code mapping} and may be throttled here until writeback catches
     * up ({@code balance_dirty_pages_ratelimited}). May sleep.
     */
    void balanceDirtyPagesRatelimited(AddressSpace mapping);

    /**
     * Reclaim found dirty pages it could not write itself; start writing back about {@code nrPages}
     * of them ({@code wakeup_flusher_threads(WB_REASON_VMSCAN)}). Never sleeps.
     */
    void wakeupFlusher(long nrPages);

    /** {@code pages} of {@code mapping} finished writeback ({@code __wb_writeout_add}). Never sleeps. */
    void writebackEnded(AddressSpace mapping, int pages);

    /**
     * The device's page counters, which the page cache keeps for every mapping that reports here
     * ({@code wb->stat[]}); {@code null} for a writeback that keeps none, as the kernel accounts no
     * per-wb pages for a mapping that cannot write back ({@code mapping_can_writeback}).
     */
    default WbStat stat() {
        return null;
    }

    /** No background writeback and no throttling: for mappings that never get dirty. */
    InodeWriteback NONE = new InodeWriteback() {
        @Override
        public void markInodeDirty(AddressSpace mapping) {
        }

        @Override
        public void balanceDirtyPagesRatelimited(AddressSpace mapping) {
        }

        @Override
        public void wakeupFlusher(long nrPages) {
        }

        @Override
        public void writebackEnded(AddressSpace mapping, int pages) {
        }
    };
}
