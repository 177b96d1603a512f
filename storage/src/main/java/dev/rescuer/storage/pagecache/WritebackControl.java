package dev.rescuer.storage.pagecache;

/**
 * What one call of {@link AddressSpace#writepages} should write ({@code struct writeback_control}).
 *
 * @param syncMode {@link SyncMode#NONE} for background writeback (skip pages already under
 *     writeback, write what is dirty now), {@link SyncMode#ALL} for data integrity ({@code fsync}:
 *     wait for older writeback of a page that is dirty again, then write it)
 * @param nrToWrite how many pages at most, {@link Long#MAX_VALUE} for all
 * @param rangeStart first page index, inclusive
 * @param rangeEnd last page index, inclusive
 * @param forReclaim the write is reclaim's {@code pageout} ({@code wbc.for_reclaim})
 */
public record WritebackControl(SyncMode syncMode, long nrToWrite, long rangeStart, long rangeEnd, boolean forReclaim) {

    /** {@code WB_SYNC_NONE} or {@code WB_SYNC_ALL}. */
    public enum SyncMode {
        /** Background writeback: do not wait, skip what is already being written. */
        NONE,
        /** Data integrity: every page dirty at the call is written, waiting for older writeback first. */
        ALL
    }

    /** Validates the fields. */
    public WritebackControl {
        if (syncMode == null) {
            throw new NullPointerException("syncMode");
        }
        if (nrToWrite < 1) {
            throw new IllegalArgumentException("writeback_control.nr_to_write must be positive, got " + nrToWrite);
        }
        if (rangeStart < 0 || rangeEnd < rangeStart) {
            throw new IllegalArgumentException("writeback_control range [" + rangeStart + ", " + rangeEnd + "] is empty or negative");
        }
    }

    /** Background writeback of up to {@code nrPages} pages of the whole file. */
    public static WritebackControl background(long nrPages) {
        return new WritebackControl(SyncMode.NONE, nrPages, 0, Long.MAX_VALUE, false);
    }

    /** Data-integrity writeback of pages {@code start..end} (inclusive), as {@code fsync} does. */
    public static WritebackControl integrity(long start, long end) {
        return new WritebackControl(SyncMode.ALL, Long.MAX_VALUE, start, end, false);
    }
}
