package dev.rescuer.storage.dm.bufio;

import dev.rescuer.core.mm.Pages;

/**
 * One cached block of a {@link DmBufioClient} ({@code struct dm_buffer}): its content (one long per
 * sector), the pages it costs, how many holders it has, and the client's per-buffer aux data (for
 * dm-verity, {@code hash_verified}). Fields are guarded by the client's lock, except the content,
 * which is written once before the buffer becomes ready and only read afterwards.
 */
public final class DmBuffer {

    final long block;
    final long[] data;
    final Pages pages;
    /** Guarded by the client's lock. */
    int holdCount;
    /** Guarded by the client's lock. */
    boolean ready;
    /** Guarded by the client's lock. */
    boolean readError;
    /** {@code B_DIRTY}: changed since it was last written. Guarded by the client's lock. */
    boolean dirty;
    /**
     * {@code B_WRITING}: a write is in flight. Set under the client's lock before the write is
     * submitted; cleared by the write's completion before it wakes the client's write wait queue.
     * Volatile: it is that wait's condition.
     */
    volatile boolean writing;
    /** The client's aux data ({@code dm_bufio_get_aux_data}); owned by the holder. */
    private volatile boolean verified;

    DmBuffer(long block, int sectors, Pages pages) {
        this.block = block;
        this.data = new long[sectors];
        this.pages = pages;
    }

    /** The block number. */
    public long block() {
        return block;
    }

    /** The content, one long per sector. Read only while holding the buffer. */
    public long[] data() {
        return data;
    }

    /** dm-verity's aux flag: the block's hash was checked against the level above. */
    public boolean isVerified() {
        return verified;
    }

    /** Sets dm-verity's aux flag. */
    public void setVerified() {
        this.verified = true;
    }
}
