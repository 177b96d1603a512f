package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * The system's page cache: every {@link AddressSpace} of one {@link PageAllocator}, the global
 * counters {@code NR_FILE_PAGES}, {@code NR_FILE_DIRTY} and {@code NR_WRITEBACK}, the LRU that
 * reclaim scans, and the wait queue on which tasks wait for a page's read or writeback to end.
 *
 * <p><b>What it models.</b> The parts of {@code mm/filemap.c}, {@code mm/vmscan.c} and
 * {@code mm/page-writeback.c} that decide who waits for whom: pages allocated in the caller's
 * context, dirty and writeback state per page, counters that the dirty throttle reads, and one LRU
 * in first-in order. <b>Left out on purpose:</b> page contents (bios carry no data in this model, so
 * a read returns how much was read, not bytes), the active/inactive split and referenced bits,
 * large folios, readahead, mmap, truncation, memcg.
 *
 * <p><b>Locking.</b> One {@link SpinLock} ({@code lock}, class {@code i_pages}) guards every
 * mapping's page tree, every folio's state bits, the LRU and the counters: the kernel splits this
 * into each mapping's {@code xa_lock}, the lruvec lock and per-cpu counters, which matters for
 * scalability only. Nothing sleeps, allocates or submits I/O under it.
 *
 * <p><b>Memory ordering.</b> The counters {@code nrFilePages}, {@code nrDirty}, {@code nrWriteback}
 * (and each writeback's {@link WbStat}, changed with them) and the folio bits {@code locked} and {@code writeback} are volatile: written under {@code lock},
 * read without it by wait conditions and the dirty throttle. A waiter's condition read pairs with the
 * write made before {@link WaitQueue#wakeUpAll()} (which fences), so a wake-up is never missed.
 */
public final class PageCache {

    private final PageAllocator allocator;
    private final Platform platform;
    /** Guards every mapping's tree, folio bits, {@link #lru} and the counters. */
    final SpinLock lock;
    /** Where tasks wait for a folio to unlock or finish writeback ({@code folio_wait_table}, one bucket). */
    final WaitQueue folioWait;

    private final LinkedHashSet<Folio> lru = new LinkedHashSet<>(); // Guarded by lock

    private volatile long nrFilePages;  // Guarded by lock for writes
    private volatile long nrDirty;      // Guarded by lock for writes
    private volatile long nrWriteback;  // Guarded by lock for writes
    private long pagesAllocated;        // Guarded by lock
    private long pagesFreed;            // Guarded by lock
    private long pagesDirtied;          // Guarded by lock
    private long writebackStarted;      // Guarded by lock
    private long writebackEnded;        // Guarded by lock
    private long writebackErrors;       // Guarded by lock
    private long readsIssued;           // Guarded by lock

    /** An empty page cache whose pages come from {@code allocator}. */
    public PageCache(PageAllocator allocator) {
        this.allocator = Objects.requireNonNull(allocator, "allocator");
        this.platform = allocator.platform();
        this.lock = new SpinLock(platform, allocator.name() + "/i_pages", "i_pages");
        this.folioWait = new WaitQueue(platform, allocator.name() + "/folio_wait", "folio_wait_table");
    }

    /**
     * A new, empty file mapping ({@code inode->i_mapping}).
     *
     * @param name for reports, e.g. {@code "vdb:/data/f1"}
     * @param gfpMask the context its pages are allocated in ({@code mapping_gfp_mask}); the
     *     allocating task's memalloc scopes further restrict it
     * @param aops where its pages live on disk
     * @param writeback the device's writeback, told about dirty pages and ended writeback
     */
    public AddressSpace newAddressSpace(String name, Gfp gfpMask, AddressSpaceOperations aops, InodeWriteback writeback) {
        return new AddressSpace(this, name, gfpMask, aops, writeback);
    }

    /**
     * Registers the page-cache shrinker with the allocator, so that reclaim frees clean pages and
     * starts writeback of dirty ones ({@link PageCacheShrinker}). Close the registration before
     * discarding the cache.
     */
    public ShrinkerRegistration registerShrinker() {
        return allocator.registerShrinker(new PageCacheShrinker(this));
    }

    /** The allocator the pages come from. */
    public PageAllocator allocator() {
        return allocator;
    }

    /** The platform. */
    public Platform platform() {
        return platform;
    }

    /** Pages in the cache now ({@code NR_FILE_PAGES}); read without the lock. */
    public long nrFilePages() {
        return nrFilePages;
    }

    /** Dirty pages now ({@code NR_FILE_DIRTY}); read without the lock. */
    public long nrDirty() {
        return nrDirty;
    }

    /** Pages under writeback now ({@code NR_WRITEBACK}); read without the lock. */
    public long nrWriteback() {
        return nrWriteback;
    }

    /** A consistent snapshot of every counter. */
    public PageCacheStats stats() {
        lock.lock();
        try {
            return new PageCacheStats(nrFilePages, nrDirty, nrWriteback, pagesAllocated, pagesFreed, pagesDirtied,
                    writebackStarted, writebackEnded, writebackErrors, readsIssued);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ state changes, all under lock

    /** A new folio enters its mapping's tree and the LRU tail. Caller holds {@link #lock}. */
    void insertLocked(Folio f) {
        f.cached = true;
        lru.add(f);
        nrFilePages++;
        pagesAllocated++;
    }

    /** A clean, idle folio leaves the cache; the caller frees its page after unlocking. Caller holds {@link #lock}. */
    void removeLocked(Folio f) {
        if (!f.isReclaimable()) {
            throw new IllegalStateException("removing " + f + " from the page cache while dirty, under writeback or locked");
        }
        f.cached = false;
        lru.remove(f);
        nrFilePages--;
        pagesFreed++;
    }

    /** Sets {@code PG_dirty}; true if it was clean. Caller holds {@link #lock}. */
    boolean setDirtyLocked(Folio f) {
        if (f.dirty) {
            return false;
        }
        f.dirty = true;
        nrDirty++;
        pagesDirtied++;
        WbStat wb = f.mapping().writeback().stat();
        if (wb != null) {
            wb.dirtied(); // folio_account_dirtied: WB_RECLAIMABLE
        }
        return true;
    }

    /** {@code folio_clear_dirty_for_io} then {@code folio_start_writeback}. Caller holds {@link #lock}. */
    void startWritebackLocked(Folio f) {
        if (!f.dirty || f.writeback) {
            throw new IllegalStateException("starting writeback of " + f + ", which is " + (f.dirty ? "already under writeback" : "clean"));
        }
        f.dirty = false;
        f.writeback = true;
        nrDirty--;
        nrWriteback++;
        writebackStarted++;
        WbStat wb = f.mapping().writeback().stat();
        if (wb != null) {
            wb.writebackStarted(); // folio_clear_dirty_for_io, __folio_start_writeback
        }
    }

    /** {@code folio_end_writeback}. Caller holds {@link #lock}. */
    void endWritebackLocked(Folio f, boolean failed) {
        if (!f.writeback) {
            throw new IllegalStateException("ending writeback of " + f + ", which is not under writeback");
        }
        f.writeback = false;
        nrWriteback--;
        writebackEnded++;
        WbStat wb = f.mapping().writeback().stat();
        if (wb != null) {
            wb.writebackEnded(); // __folio_end_writeback: WB_WRITEBACK
        }
        if (failed) {
            writebackErrors++;
        }
    }

    /** Counts a read bio. Caller holds {@link #lock}. */
    void readIssuedLocked() {
        readsIssued++;
    }

    /**
     * Takes up to {@code n} folios off the LRU head for reclaim to look at ({@code isolate_lru_folios});
     * the caller puts back what it does not free with {@link #putbackLocked}. Caller holds {@link #lock}.
     */
    List<Folio> isolateLocked(long n) {
        List<Folio> out = new ArrayList<>();
        Iterator<Folio> it = lru.iterator();
        while (out.size() < n && it.hasNext()) {
            out.add(it.next());
            it.remove();
        }
        return out;
    }

    /** Puts an isolated folio back at the LRU tail ({@code putback_lru_folio}). Caller holds {@link #lock}. */
    void putbackLocked(Folio f) {
        lru.add(f);
    }

    /** Frees an isolated, reclaimable folio: out of its mapping's tree. Caller holds {@link #lock}. */
    void reclaimIsolatedLocked(Folio f) {
        f.mapping().detachLocked(f);
        removeLocked(f);
    }
}
