package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Pages;

/**
 * One page of a file in the page cache ({@code struct folio} of order 0): its index in the file, the
 * page it occupies, and its state bits.
 *
 * <p>The bits are the kernel's {@code PG_uptodate}, {@code PG_dirty}, {@code PG_writeback} and
 * {@code PG_locked} (held here only while a read is in flight). A folio may be dirty and under
 * writeback at once: a write that lands while an older version is being written redirties it, as
 * in the kernel (no stable-pages wait is modelled).
 *
 * <p>Every field but {@link #index} and {@link #mapping} is written under the {@link PageCache}'s
 * lock ({@code PageCache.lock}); {@code locked} and {@code writeback} are volatile so that a task
 * waiting for them ({@code folio_wait_locked}, {@code folio_wait_writeback}) can read them without it.
 */
public final class Folio {

    private final AddressSpace mapping;
    private final long index;
    /** The page this folio occupies; freed exactly once, when the folio leaves the cache. */
    final Pages page;

    boolean uptodate;   // Guarded by PageCache.lock
    boolean dirty;      // Guarded by PageCache.lock
    volatile boolean writeback;  // Guarded by PageCache.lock for writes; read lock-free by waiters
    volatile boolean locked;     // Guarded by PageCache.lock for writes; a read is in flight
    /** Still in its mapping's tree and on the LRU. */
    boolean cached;     // Guarded by PageCache.lock

    Folio(AddressSpace mapping, long index, Pages page) {
        this.mapping = mapping;
        this.index = index;
        this.page = page;
    }

    /** The file this page belongs to. */
    public AddressSpace mapping() {
        return mapping;
    }

    /** The page's index in its file (file offset / {@code PAGE_SIZE}). */
    public long index() {
        return index;
    }

    /** Whether a reclaimer could free this folio now: cached, clean, not under writeback, not locked. */
    boolean isReclaimable() {
        return cached && !dirty && !writeback && !locked;
    }

    @Override
    public String toString() {
        return mapping.name() + "[" + index + "]";
    }
}
