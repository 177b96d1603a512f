package dev.rescuer.storage.pagecache;

/**
 * The page counters of one device's writeback ({@code wb->stat[]}): {@code WB_RECLAIMABLE} (its
 * dirty pages) and {@code WB_WRITEBACK} (its pages under writeback), kept by the page cache beside
 * the global {@code NR_FILE_DIRTY} and {@code NR_WRITEBACK} ({@code folio_account_dirtied},
 * {@code folio_clear_dirty_for_io}, {@code __folio_start_writeback}, {@code __folio_end_writeback}),
 * so that the dirty throttle can see what one device has dirty ({@code wb_dirty} in
 * {@code wb_dirty_limits}).
 *
 * <p>The kernel's counters are per-CPU with a batch ({@code wb_stat_error}); these are exact.
 *
 * <p><b>Memory ordering.</b> Written only under the page cache's lock, read without it by the dirty
 * throttle's wait conditions: volatile, as the global counters are.
 */
public final class WbStat {

    private volatile long reclaimable; // Guarded by PageCache.lock for writes
    private volatile long writeback;   // Guarded by PageCache.lock for writes

    /** Dirty pages of the device now ({@code WB_RECLAIMABLE}); read without the lock. */
    public long reclaimable() {
        return reclaimable;
    }

    /** Pages of the device under writeback now ({@code WB_WRITEBACK}); read without the lock. */
    public long writeback() {
        return writeback;
    }

    /** Dirty plus writeback pages ({@code wb_dirty}); read without the lock. */
    public long dirty() {
        return reclaimable + writeback;
    }

    void dirtied() {
        reclaimable++;
    }

    void writebackStarted() {
        reclaimable--;
        writeback++;
    }

    void writebackEnded() {
        writeback--;
    }

    @Override
    public String toString() {
        return "wb_stat reclaimable=" + reclaimable + " writeback=" + writeback;
    }
}
