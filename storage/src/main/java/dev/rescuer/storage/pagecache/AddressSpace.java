package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockLayer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The cached pages of one file ({@code struct address_space}).
 *
 * <p><b>Guarantees.</b>
 * <ul>
 *   <li>A page missing from the cache is allocated from the allocator with {@link #gfpMask()}
 *       ({@code mapping_gfp_mask}, which {@link #setGfpMask} may change, as {@code loop_configure}
 *       does for its backing file), restricted further by the calling task's memalloc scopes
 *       ({@code current_gfp_context}), so a
 *       miss inside a {@code nofs} scope cannot recurse into the filesystem. The allocation happens
 *       outside every lock and may block in direct reclaim or fail
 *       ({@link dev.rescuer.core.mm.PageAllocationException}); then nothing was changed.
 *   <li>{@link #read} returns only when every page in the range is uptodate: a miss submits a read
 *       bio and waits for it ({@code filemap_read_folio}); a page whose read is already in flight is
 *       waited for, never read twice.
 *   <li>{@link #write} dirties whole pages ({@code generic_perform_write} for page-aligned writes),
 *       tells the device's writeback about the first dirty page, and lets the writer be throttled
 *       after each page ({@code balance_dirty_pages_ratelimited}).
 *   <li>{@link #writepages} moves dirty pages to writeback and submits one bio per page; the bio's
 *       end-io (any context, often atomic) ends writeback and wakes waiters. A page is never dropped
 *       while dirty or under writeback: only {@link PageCacheShrinker} and
 *       {@link #invalidateMappingPages} free pages, and only clean idle ones.
 *   <li>{@link #filemapWriteAndWaitRange} writes every page dirty at the call and waits for all
 *       writeback in the range, then reports (and clears) a writeback error, as {@code fsync} does.
 * </ul>
 *
 * <p><b>Left out on purpose:</b> sub-page writes (the filesystem reads a partial page first and
 * then writes it whole), readahead, large folios, truncation, {@code errseq_t} (one error slot
 * cleared by the first check, as the old {@code AS_EIO} bit was), the tagged page-tree lookups.
 *
 * <p><b>Locking.</b> The page tree {@code pages} and {@code error} are guarded by the page cache's
 * lock ({@code PageCache.lock}), like the kernel's {@code mapping->i_pages} xa_lock.
 *
 * <p><b>Memory ordering.</b> {@code gfpMask} is volatile: {@link #setGfpMask}'s write pairs with the
 * read at the start of each miss's allocation; no lock orders them, as none does in the kernel.
 */
public final class AddressSpace {

    private final PageCache cache;
    private final String name;
    /**
     * {@code mapping->gfp_mask}: the context every page of this mapping is allocated in. Written by
     * {@link #setGfpMask} (a loop device binding or unbinding the file), read by each miss; volatile,
     * so a miss after the write sees the new mask (the kernel's plain field is set before the loop
     * device takes I/O, and the same holds here).
     */
    private volatile Gfp gfpMask;
    private final AddressSpaceOperations aops;
    private final InodeWriteback writeback;

    private final TreeMap<Long, Folio> pages = new TreeMap<>(); // Guarded by cache.lock
    private long nrDirty;        // Guarded by cache.lock
    private BlkStatus error;     // Guarded by cache.lock: AS_EIO, the first writeback error since the last check

    AddressSpace(PageCache cache, String name, Gfp gfpMask, AddressSpaceOperations aops, InodeWriteback writeback) {
        this.cache = cache;
        this.name = Objects.requireNonNull(name, "name");
        this.gfpMask = Objects.requireNonNull(gfpMask, "gfpMask");
        this.aops = Objects.requireNonNull(aops, "aops");
        this.writeback = Objects.requireNonNull(writeback, "writeback");
    }

    /** The mapping's name, for reports. */
    public String name() {
        return name;
    }

    /** The context the mapping's pages are allocated in ({@code mapping_gfp_mask}). */
    public Gfp gfpMask() {
        return gfpMask;
    }

    /**
     * Sets the context the mapping's pages are allocated in from now on ({@code mapping_set_gfp_mask}):
     * a miss that starts after this call allocates with {@code mask}, further restricted by the
     * caller's scopes; pages already cached are not touched.
     */
    public void setGfpMask(Gfp mask) {
        this.gfpMask = Objects.requireNonNull(mask, "mask");
    }

    /** The writeback this mapping reports to. */
    public InodeWriteback writeback() {
        return writeback;
    }

    /** Where its pages live on disk. */
    public AddressSpaceOperations aops() {
        return aops;
    }

    /** The page cache this mapping belongs to. */
    public PageCache cache() {
        return cache;
    }

    /** Pages of this file in the cache now ({@code mapping->nrpages}). */
    public long nrPages() {
        cache.lock.lock();
        try {
            return pages.size();
        } finally {
            cache.lock.unlock();
        }
    }

    /** Dirty pages of this file now. */
    public long nrDirty() {
        cache.lock.lock();
        try {
            return nrDirty;
        } finally {
            cache.lock.unlock();
        }
    }

    /** Whether any page is dirty or under writeback ({@code mapping_tagged(DIRTY|WRITEBACK)}). */
    public boolean hasDirtyOrWriteback() {
        cache.lock.lock();
        try {
            if (nrDirty > 0) {
                return true;
            }
            for (Folio f : pages.values()) {
                if (f.writeback) {
                    return true;
                }
            }
            return false;
        } finally {
            cache.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ read

    /**
     * Makes pages {@code first .. first+count-1} uptodate, reading the missing ones.
     *
     * @return how many read bios this call submitted (the misses it filled itself)
     * @throws PageIoException if a read failed
     * @throws dev.rescuer.core.mm.PageAllocationException if a page could not be allocated
     */
    public int read(long first, int count) {
        checkRange(first, count);
        List<Folio> wanted = new ArrayList<>(count);
        int submitted = 0;
        for (long i = first; i < first + count; i++) {
            long sector = aops.sectorOf(this, i);
            Lookup l = findOrCreate(i, false);
            wanted.add(l.folio);
            if (l.mustRead) {
                submitRead(l.folio, sector);
                submitted++;
            }
        }
        for (Folio f : wanted) {
            cache.folioWait.waitEvent(() -> !f.locked); // folio_wait_locked
            if (!f.uptodate) {
                throw new PageIoException("read of " + f + " failed", BlkStatus.IOERR);
            }
        }
        return submitted;
    }

    private static final class Lookup {
        final Folio folio;
        final boolean mustRead;

        Lookup(Folio folio, boolean mustRead) {
            this.folio = folio;
            this.mustRead = mustRead;
        }
    }

    /**
     * Finds page {@code index} or allocates and inserts it ({@code __filemap_get_folio(FGP_CREAT)}).
     * For a read, a new or failed page comes back locked with {@code mustRead}; for a full-page write
     * a new page is uptodate at once.
     */
    private Lookup findOrCreate(long index, boolean forWrite) {
        cache.lock.lock();
        try {
            Folio f = pages.get(index);
            if (f != null) {
                return lockedForReadIfNeeded(f, forWrite);
            }
        } finally {
            cache.lock.unlock();
        }
        Pages page = cache.allocator().allocate(1, gfpMask); // may sleep in reclaim; no lock held; the allocator applies the task's scopes
        Folio mine = new Folio(this, index, page);
        Lookup result;
        cache.lock.lock();
        try {
            Folio raced = pages.get(index);
            if (raced != null) {
                result = lockedForReadIfNeeded(raced, forWrite);
            } else {
                mine.uptodate = forWrite;
                mine.locked = !forWrite;
                pages.put(index, mine);
                cache.insertLocked(mine);
                if (!forWrite) {
                    cache.readIssuedLocked();
                }
                return new Lookup(mine, !forWrite);
            }
        } finally {
            cache.lock.unlock();
        }
        page.free(); // someone else inserted it first
        return result;
    }

    /** Caller holds the lock. A page that is not uptodate and not being read is taken for a new read. */
    private Lookup lockedForReadIfNeeded(Folio f, boolean forWrite) {
        if (f.uptodate || f.locked) {
            return new Lookup(f, false);
        }
        if (forWrite) {
            f.uptodate = true; // a full-page write makes it uptodate
            return new Lookup(f, false);
        }
        f.locked = true;
        cache.readIssuedLocked();
        return new Lookup(f, true);
    }

    private void submitRead(Folio f, long sector) {
        Bio bio = new Bio(BioOp.READ, 0, aops.device(), sector, Bio.PAGE_SIZE, null, b -> endRead(f, b.status()),
                "filemap_read " + f);
        BlockLayer.submitBioNoacct(bio);
    }

    /** Read end-io: unlock the folio, uptodate if it succeeded. Never sleeps. */
    private void endRead(Folio f, BlkStatus status) {
        cache.lock.lock();
        try {
            f.uptodate = status == BlkStatus.OK;
            f.locked = false;
        } finally {
            cache.lock.unlock();
        }
        cache.folioWait.wakeUpAll();
    }

    // ------------------------------------------------------------------ write

    /**
     * Dirties pages {@code first .. first+count-1} as full-page writes, allocating missing pages,
     * and after each page lets the device's writeback throttle the writer.
     *
     * @throws IllegalArgumentException if a page has no block on disk; nothing is dirtied then
     * @throws dev.rescuer.core.mm.PageAllocationException if a page could not be allocated; the pages
     *     before it stay dirty, as a short write leaves them
     */
    public void write(long first, int count) {
        checkRange(first, count);
        for (long i = first; i < first + count; i++) {
            aops.sectorOf(this, i); // refuse the whole write before dirtying anything
        }
        for (long i = first; i < first + count; ) {
            Folio f = findOrCreate(i, true).folio;
            cache.folioWait.waitEvent(() -> !f.locked); // a read in flight finishes first
            boolean firstDirty = false;
            boolean stillCached;
            cache.lock.lock();
            try {
                stillCached = f.cached; // a clean page may have been reclaimed meanwhile
                if (stillCached) {
                    f.uptodate = true;
                    if (cache.setDirtyLocked(f)) {
                        firstDirty = nrDirty == 0;
                        nrDirty++;
                    }
                }
            } finally {
                cache.lock.unlock();
            }
            if (!stillCached) {
                continue; // look the index up again
            }
            i++;
            if (firstDirty) {
                writeback.markInodeDirty(this);
            }
            writeback.balanceDirtyPagesRatelimited(this);
        }
    }

    // ------------------------------------------------------------------ writeback

    /**
     * Starts writeback of dirty pages as {@code wbc} says ({@code do_writepages}); with
     * {@link WritebackControl.SyncMode#ALL}, first waits for older writeback of pages that are dirty
     * again. Does not wait for the new writeback.
     *
     * @return how many pages it started writing
     */
    public long writepages(WritebackControl wbc) {
        if (wbc.syncMode() == WritebackControl.SyncMode.ALL) {
            for (Folio f : select(wbc, true)) {
                cache.folioWait.waitEvent(() -> !f.writeback); // folio_wait_writeback
            }
        }
        List<Folio> batch = new ArrayList<>();
        cache.lock.lock();
        try {
            for (Folio f : pages.subMap(wbc.rangeStart(), true, wbc.rangeEnd(), true).values()) {
                if (batch.size() >= wbc.nrToWrite()) {
                    break;
                }
                if (f.dirty && !f.writeback) {
                    startWritebackLocked(f);
                    batch.add(f);
                }
            }
        } finally {
            cache.lock.unlock();
        }
        int flags = wbc.syncMode() == WritebackControl.SyncMode.ALL ? Bio.REQ_SYNC : 0; // wbc_to_write_flags
        for (Folio f : batch) {
            submitWrite(f, flags, wbc.forReclaim() ? "pageout " : "writeback ");
        }
        return batch.size();
    }

    /** Dirty-and-under-writeback pages (or all under writeback) in wbc's range, a snapshot. */
    private List<Folio> select(WritebackControl wbc, boolean dirtyOnly) {
        List<Folio> out = new ArrayList<>();
        cache.lock.lock();
        try {
            for (Folio f : pages.subMap(wbc.rangeStart(), true, wbc.rangeEnd(), true).values()) {
                if (f.writeback && (f.dirty || !dirtyOnly)) {
                    out.add(f);
                }
            }
        } finally {
            cache.lock.unlock();
        }
        return out;
    }

    /** Moves a dirty folio to writeback, keeping this mapping's dirty count. Caller holds the lock. */
    void startWritebackLocked(Folio f) {
        cache.startWritebackLocked(f);
        nrDirty--;
    }

    /** Submits the write of a folio already moved to writeback. */
    void submitWrite(Folio f, int flags, String why) {
        Bio bio = new Bio(BioOp.WRITE, flags, aops.device(), aops.sectorOf(this, f.index()), Bio.PAGE_SIZE, null,
                b -> endWriteback(f, b.status()), why + f);
        BlockLayer.submitBioNoacct(bio);
    }

    /** Write end-io ({@code end_bio_bh_io_sync}/{@code mpage_end_io}): never sleeps. */
    private void endWriteback(Folio f, BlkStatus status) {
        cache.lock.lock();
        try {
            cache.endWritebackLocked(f, status != BlkStatus.OK);
            if (status != BlkStatus.OK && error == null) {
                error = status; // mapping_set_error
            }
        } finally {
            cache.lock.unlock();
        }
        cache.folioWait.wakeUpAll();
        writeback.writebackEnded(this, 1);
    }

    /**
     * Writes every page of {@code start..end} (inclusive page indexes) that is dirty now and waits
     * until no page in the range is under writeback ({@code filemap_write_and_wait_range}).
     *
     * @return {@link BlkStatus#OK}, or the first writeback error seen since the last call (which
     *     this call clears, as {@code filemap_check_errors} does)
     */
    public BlkStatus filemapWriteAndWaitRange(long start, long end) {
        WritebackControl wbc = WritebackControl.integrity(start, end);
        writepages(wbc);
        for (Folio f : select(wbc, false)) {
            cache.folioWait.waitEvent(() -> !f.writeback);
        }
        cache.lock.lock();
        try {
            BlkStatus e = error;
            error = null;
            return e == null ? BlkStatus.OK : e;
        } finally {
            cache.lock.unlock();
        }
    }

    // ------------------------------------------------------------------ eviction

    /**
     * Drops every clean, idle page ({@code invalidate_mapping_pages}); dirty, locked and writeback
     * pages stay. Never sleeps.
     *
     * @return how many pages were freed
     */
    public int invalidateMappingPages() {
        List<Folio> dropped = new ArrayList<>();
        cache.lock.lock();
        try {
            for (Map.Entry<Long, Folio> e : new ArrayList<>(pages.entrySet())) {
                Folio f = e.getValue();
                if (f.isReclaimable()) {
                    pages.remove(e.getKey());
                    cache.removeLocked(f);
                    dropped.add(f);
                }
            }
        } finally {
            cache.lock.unlock();
        }
        for (Folio f : dropped) {
            f.page.free();
        }
        return dropped.size();
    }

    /**
     * The state of page {@code index} for tests and reports: {@code absent}, or {@code clean},
     * {@code dirty}, {@code writeback}, {@code dirty+writeback}, with {@code +locked} while a read is
     * in flight.
     */
    String pageState(long index) {
        cache.lock.lock();
        try {
            Folio f = pages.get(index);
            if (f == null) {
                return "absent";
            }
            String s = f.dirty && f.writeback ? "dirty+writeback" : f.dirty ? "dirty" : f.writeback ? "writeback" : "clean";
            return f.locked ? s + "+locked" : s;
        } finally {
            cache.lock.unlock();
        }
    }

    /** Removes a folio from the tree, for reclaim. Caller holds the lock. */
    void detachLocked(Folio f) {
        pages.remove(f.index(), f);
    }

    private void checkRange(long first, int count) {
        if (first < 0 || count < 1) {
            throw new IllegalArgumentException(name + ": page range " + first + "+" + count + " is empty or negative");
        }
    }

    @Override
    public String toString() {
        return "address_space " + name;
    }
}
