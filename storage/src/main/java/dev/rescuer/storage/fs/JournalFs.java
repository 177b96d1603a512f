package dev.rescuer.storage.fs;

import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.pagecache.AddressSpace;
import dev.rescuer.storage.pagecache.AddressSpaceOperations;
import dev.rescuer.storage.pagecache.InodeWriteback;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.PageIoException;

import java.util.Objects;

/**
 * A mounted journaling filesystem ({@code struct super_block} with {@code struct xfs_mount}) on a
 * {@link BlockDevice}.
 *
 * <p><b>What it models.</b> Files with page-cache data ({@link #read}, {@link #write},
 * {@link #fsync}); an inode cache whose inodes cost memory and whose shrinker forces the log
 * ({@link SuperCacheShrinker}); size changes logged in transactions ({@link Handle}, in a
 * {@code nofs} scope) that a {@link Journal} pushes to the log on its own {@code MEM_RECLAIM} queue.
 * As XFS does ({@code xfs_setup_inode}), every file's mapping allocates with {@code GFP_NOFS}
 * ({@link #MAPPING_GFP}), so a page-cache miss never recurses into filesystem reclaim (a loop device
 * bound to a file narrows that file's mask to {@code GFP_NOIO}). Reads and writes are whole pages: a
 * write that starts or ends inside a page that holds data on disk reads that page first.
 *
 * <p><b>Block allocation.</b> A write into holes of a sparse file allocates their blocks first, in a
 * transaction of its own ({@link #allocateHoles}), before it touches the page cache, as XFS's
 * {@code iomap_begin} does for a write that allocates at write time ({@code xfs_iomap_write_direct}:
 * direct I/O, or a buffered write to a file with an extent size hint; this model has no delayed
 * allocation): {@code xfs_trans_alloc} (the task enters {@code nofs}), {@code xfs_bmapi_write} →
 * {@code xfs_alloc_vextent}, which locks the group's AGF ({@link AllocationGroup}) until the
 * transaction commits. A new extent in a file whose fork is full converts the fork to a B+tree
 * ({@code xfs_bmap_extents_to_btree}), which allocates a block and its buffer, one page
 * {@code GFP_NOFS}, while the AGF is held: the filesystem lock, wider than one inode, that a
 * {@code GFP_NOFS} allocation holds when its reclaim enters a shrinker.
 *
 * <p><b>Mount options.</b> {@code ro}: no journal, no CIL queue; writes, creates and fsyncs of dirty
 * data are refused with {@link ReadOnlyFilesystemException}. {@code rw}: the journal is started, with
 * two preallocated log buffers.
 *
 * <p><b>Left out on purpose:</b> directories (one flat namespace), placing new extents (a file's
 * blocks, allocated or not, are reserved in its group by {@link FsLayout#addFile}; allocating a hole
 * marks its reserved block), free-space btrees and their splits, delayed allocation, unwritten
 * extents and their conversion on I/O completion, reads of holes without I/O (a hole is read from
 * its reserved block), truncate, timestamps, quotas, log recovery.
 *
 * <p><b>Locking.</b> {@code sbLock} guards the {@link FsLayout}. Each inode's {@code iLock}
 * ({@code i_rwsem}) is held across a write, including its block allocation, its
 * {@code balance_dirty_pages} throttling and its size transaction, as {@code xfs_file_buffered_write}
 * holds the IOLOCK. Lock order: {@code i_rwsem}, then the AGF, then {@code sbLock}.
 */
public final class JournalFs {

    /** Log buffers preallocated at mount ({@code l_iclog_bufs}, two pages here). */
    public static final int ICLOG_PAGES = 2;
    /**
     * The context every file's pages are allocated in. XFS clears {@code __GFP_FS} from its mappings
     * ({@code xfs_setup_inode}); and an order-0 {@code GFP_NOFS} allocation never fails in the kernel
     * ({@code __alloc_pages_may_oom} skips the OOM killer without {@code __GFP_FS} but reports
     * progress, so the slow path retries for as long as it takes), which this model's allocator, having
     * no OOM killer, expresses as {@code __GFP_NOFAIL}.
     */
    public static final Gfp MAPPING_GFP = Gfp.NOFS.with(Gfp.Modifier.NOFAIL);
    /**
     * The context of a new metadata buffer's memory ({@code xfs_buf_alloc_pages}, which retries until
     * it gets its pages; in a transaction the task's {@code nofs} scope makes any context
     * {@code GFP_NOFS} anyway).
     */
    public static final Gfp BUFFER_GFP = Gfp.NOFS.with(Gfp.Modifier.NOFAIL);
    /** Items in the open log context that trigger a background push. */
    public static final int PUSH_THRESHOLD = 32;

    private final String name;
    private final BlockDevice device;
    private final FsLayout layout;
    private final MountOptions options;
    private final PageCache cache;
    private final InodeWriteback writeback;
    private final Platform platform;
    private final SpinLock sbLock;
    private final Journal journal;
    private final InodeCache icache;
    private final ShrinkerRegistration shrinker;
    private final AllocationGroup[] ags;

    private JournalFs(BlockDevice device, FsLayout layout, MountOptions options, PageCache cache,
                      Workqueues workqueues, InodeWriteback writeback) {
        this.name = device.name();
        this.device = device;
        this.layout = layout;
        this.options = options;
        this.cache = cache;
        this.platform = device.platform();
        this.writeback = options.readOnly() ? InodeWriteback.NONE : writeback;
        this.sbLock = new SpinLock(platform, name + "/sb_lock", "sb_lock");
        this.ags = new AllocationGroup[layout.agCount()];
        for (int g = 0; g < ags.length; g++) {
            ags[g] = new AllocationGroup(platform, name, g);
        }
        if (options.readOnly()) {
            this.journal = null;
        } else {
            Pages iclogs = cache.allocator().allocate(ICLOG_PAGES, Gfp.KERNEL);
            WorkQueue cilWq = Journal.allocCilWq(workqueues, name);
            this.journal = new Journal(name, device, layout, sbLock, cilWq, iclogs, PUSH_THRESHOLD);
        }
        this.icache = new InodeCache(this);
        this.shrinker = cache.allocator().registerShrinker(new SuperCacheShrinker(this));
    }

    /**
     * Declares to {@code graph} what this filesystem's reclaim waits on: for a read-write mount, its
     * journal's CIL queue ({@link Journal#declareWaits}), and its superblock shrinker
     * ({@code shrinker:super/DEVICE}, a reclaim source) waiting on that queue ({@code super_cache_scan}
     * → {@code xfs_reclaim_inodes} → {@code xlog_cil_force_seq} → {@code flush_work} of the push). A
     * read-only mount's shrinker only frees clean inodes; it declares nothing. The device must be
     * declared.
     */
    public void declareWaits(WaitGraph graph) {
        if (journal == null) {
            return;
        }
        journal.declareWaits(graph);
        String shrinkerNode = "shrinker:super/" + name;
        graph.node(shrinkerNode, WaitGraph.NodeKind.RECLAIM);
        graph.waitsOn(shrinkerNode, journal.queue().name(),
                "super_cache_scan -> xfs_reclaim_inodes -> xfs_iunpin_wait -> xlog_cil_force_seq: flush_work of the CIL push");
    }

    /**
     * Mounts the filesystem {@code layout} describes on {@code device}.
     *
     * @param cache the page cache files' data goes through
     * @param workqueues where the journal's CIL queue is created (read-write only)
     * @param writeback the device's writeback ({@code writeback.BdiWriteback}); ignored when read-only
     * @throws IllegalArgumentException if the layout does not fit the device
     */
    public static JournalFs mount(BlockDevice device, FsLayout layout, MountOptions options, PageCache cache,
                                  Workqueues workqueues, InodeWriteback writeback) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(cache, "cache");
        if (!options.readOnly()) {
            Objects.requireNonNull(workqueues, "workqueues (a read-write mount starts a journal)");
            Objects.requireNonNull(writeback, "writeback (a read-write mount writes back dirty pages)");
        }
        if (layout.capacitySectors() > device.capacitySectors()) {
            throw new IllegalArgumentException("mount " + device.name() + ": the filesystem needs " + layout.capacitySectors()
                    + " sectors, the device has " + device.capacitySectors());
        }
        return new JournalFs(device, layout, options, cache, workqueues, writeback);
    }

    /** The device's name, which names the filesystem in reports. */
    public String name() {
        return name;
    }

    /** The platform. */
    public Platform platform() {
        return platform;
    }

    /** The device it is mounted on. */
    public BlockDevice device() {
        return device;
    }

    /** How it is mounted. */
    public MountOptions options() {
        return options;
    }

    /** The device's writeback its files report to ({@link InodeWriteback#NONE} on a read-only mount). */
    public InodeWriteback writeback() {
        return writeback;
    }

    /** The journal, or {@code null} on a read-only mount. */
    public Journal journal() {
        return journal;
    }

    /** Allocation group {@code agno}. */
    public AllocationGroup ag(int agno) {
        return ags[agno];
    }

    InodeCache inodeCache() {
        return icache;
    }

    /** Inodes in memory now (used and unused). */
    public int cachedInodes() {
        return icache.cached().size();
    }

    /** Unused inodes the shrinker could reclaim now. */
    public long unusedInodes() {
        return icache.countUnused();
    }

    /** The size of file {@code name} on disk (as of the last commit), or -1 if there is no such file. */
    public long sizeOnDisk(String fileName) {
        sbLock.lock();
        try {
            FsLayout.FileEntry e = layout.file(fileName);
            return e == null ? -1 : e.sizeBytes();
        } finally {
            sbLock.unlock();
        }
    }

    // ------------------------------------------------------------------ namespace

    /**
     * Opens an existing file, reading its inode if it is not cached.
     *
     * @throws IllegalArgumentException if there is no such file ({@code ENOENT})
     */
    public OpenFile open(String fileName) {
        FsLayout.FileEntry e = lookup(fileName);
        if (e == null) {
            throw new IllegalArgumentException("open " + name + ":" + fileName + ": no such file (ENOENT)");
        }
        return new OpenFile(this, icache.iget(e.ino(), ino -> loadInode(e, true)));
    }

    /**
     * Creates a file with a data extent of {@code blocks} blocks, in a transaction (the new inode is
     * allocated inside it, so under {@code nofs}), and opens it.
     *
     * @throws ReadOnlyFilesystemException on a read-only mount
     * @throws IllegalArgumentException if the layout refuses the file (see {@link FsLayout#addFile})
     */
    public OpenFile create(String fileName, long blocks) {
        if (options.readOnly()) {
            throw new ReadOnlyFilesystemException(name, "create " + fileName);
        }
        FsLayout.FileEntry e;
        sbLock.lock();
        try {
            e = layout.addFile(fileName, blocks, 0);
        } finally {
            sbLock.unlock();
        }
        try (Handle h = journal.start()) {
            Inode inode = icache.iget(e.ino(), ino -> loadInode(e, false));
            h.logInode(inode);
            return new OpenFile(this, inode);
        }
    }

    private FsLayout.FileEntry lookup(String fileName) {
        sbLock.lock();
        try {
            return layout.file(fileName);
        } finally {
            sbLock.unlock();
        }
    }

    /**
     * Builds the in-core inode: its memory ({@code xfs_inode_alloc}: GFP_KERNEL|__GFP_NOFAIL), then,
     * if {@code read}, its block. A new inode is not read: {@code xfs_iget_cache_miss} with
     * {@code XFS_IGET_CREATE} on a v5 (CRC) filesystem initialises it in memory and skips
     * {@code xfs_imap_to_bp}.
     */
    private Inode loadInode(FsLayout.FileEntry e, boolean read) {
        Pages memory = cache.allocator().allocate(1, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL));
        BlkStatus st = !read ? BlkStatus.OK : BlockLayer.submitBioWait(new Bio(BioOp.READ, Bio.REQ_META, device,
                layout.inodeSector(e.ino()), Bio.PAGE_SIZE, null, null, "xfs_iread " + e.name()));
        if (st != BlkStatus.OK) {
            memory.free();
            throw new PageIoException("reading inode " + e.ino() + " (" + e.name() + ") of " + name, st);
        }
        AddressSpaceOperations aops = new AddressSpaceOperations() {
            @Override
            public BlockDevice device() {
                return device;
            }

            @Override
            public long sectorOf(AddressSpace mapping, long index) {
                if (index < 0 || index >= e.blocks()) {
                    throw new IllegalArgumentException("page " + index + " of " + name + ":" + e.name()
                            + " is beyond its extent of " + e.blocks() + " blocks");
                }
                return (e.startBlock() + index) * FsLayout.BLOCK_SECTORS;
            }
        };
        AddressSpace mapping = cache.newAddressSpace(name + ":" + e.name(), MAPPING_GFP, aops, writeback);
        long size;
        sbLock.lock();
        try {
            size = e.sizeBytes(); // the journal's push updates it under sbLock
        } finally {
            sbLock.unlock();
        }
        return new Inode(e, size, mapping, memory, new Mutex(platform, name + ":" + e.name() + "/i_rwsem", "i_rwsem"));
    }

    void release(Inode inode) {
        icache.iput(inode);
    }

    // ------------------------------------------------------------------ data

    /**
     * Reads up to {@code length} bytes at {@code offset}, stopping at the end of the file.
     *
     * @return the bytes read: 0 at or past the end of the file
     * @throws PageIoException if a page could not be read
     */
    public long read(OpenFile file, long offset, long length) {
        file.checkOpen();
        checkIo("read", file, offset, length);
        Inode inode = file.inode();
        long size = inode.size();
        if (offset >= size) {
            return 0;
        }
        long n = Math.min(length, size - offset);
        long first = offset / Bio.PAGE_SIZE;
        long last = (offset + n - 1) / Bio.PAGE_SIZE;
        inode.mapping().read(first, Math.toIntExact(last - first + 1));
        return n;
    }

    /**
     * Writes {@code length} bytes at {@code offset} into the page cache, extending the file in a
     * transaction if the write ends past its size. The writer may be throttled
     * ({@code balance_dirty_pages}) after each page.
     *
     * @return {@code length}
     * @throws ReadOnlyFilesystemException on a read-only mount
     * @throws IllegalArgumentException if the write reaches past the file's extent; nothing is written then
     */
    public long write(OpenFile file, long offset, long length) {
        Inode inode = checkWrite("write", file, offset, length);
        long end = offset + length;
        long first = offset / Bio.PAGE_SIZE;
        long last = (end - 1) / Bio.PAGE_SIZE;
        inode.iLock.lock();
        try {
            allocateHoles(inode, first, last);
            readPartialPage(inode, offset, first);
            readPartialPage(inode, end, last);
            inode.mapping().write(first, Math.toIntExact(last - first + 1));
            if (end > inode.size) {
                try (Handle h = journal.start()) {
                    inode.size = end;
                    h.logInode(inode);
                }
            }
        } finally {
            inode.iLock.unlock();
        }
        return length;
    }

    /**
     * Allocates the blocks of the holes among bytes {@code offset .. offset+length-1} of the file
     * before a direct write to them ({@code xfs_direct_write_iomap_begin} → {@code xfs_iomap_write_direct}),
     * without the inode lock (this model's direct I/O takes none); see {@link #allocateHoles}.
     *
     * @throws ReadOnlyFilesystemException on a read-only mount
     * @throws IllegalArgumentException if the range reaches past the file's extent
     */
    public void allocateForDirectWrite(OpenFile file, long offset, long length) {
        Inode inode = checkWrite("direct write", file, offset, length);
        allocateHoles(inode, offset / Bio.PAGE_SIZE, (offset + length - 1) / Bio.PAGE_SIZE);
    }

    /** A write's checks: open, read-write, a valid range inside the file's extent; returns the inode. */
    private Inode checkWrite(String op, OpenFile file, long offset, long length) {
        file.checkOpen();
        Inode inode = file.inode();
        if (options.readOnly()) {
            throw new ReadOnlyFilesystemException(name, op + " to " + inode.name());
        }
        checkIo(op, file, offset, length);
        long last = (offset + length - 1) / Bio.PAGE_SIZE;
        if (last >= inode.entry().blocks()) {
            throw new IllegalArgumentException(op + " of " + length + " bytes at " + offset + " to " + file + " reaches block "
                    + last + ", but the file has " + inode.entry().blocks() + " blocks (EFBIG)");
        }
        return inode;
    }

    /**
     * Allocates the holes among blocks {@code first..last} of the inode in one transaction
     * ({@code xfs_iomap_write_direct}): {@code xfs_trans_alloc} (a {@code nofs} scope), the group's
     * AGF locked until the commit ({@code xfs_alloc_vextent} → {@code xfs_alloc_read_agf}), each
     * hole's block marked allocated; a block that joins no allocated neighbour is a new extent, and
     * a new extent in a full fork first converts the fork to a B+tree
     * ({@code xfs_bmap_extents_to_btree}: a page for the new btree block's buffer, {@link #BUFFER_GFP},
     * allocated with the AGF held). The inode is logged. Returns at once when there is no hole.
     *
     * <p>Locking: the holes are found and the conversion decided with the AGF held and without
     * {@code sbLock}: only this method changes a file's block map and fork, always holding the AGF of
     * the file's group, so the map cannot change under its holder (the AGF stands in for the ILOCK
     * that {@code xfs_bmapi_write} runs under). {@code sbLock} is taken once per call, to publish
     * the new blocks to readers that take only {@code sbLock} ({@link #hasHole}), as XFS applies a
     * transaction's superblock deltas under {@code m_sb_lock} once, at commit
     * ({@code xfs_trans_unreserve_and_mod_sb}). So the blocks become visible together, before the
     * commit unlocks the AGF.
     */
    private void allocateHoles(Inode inode, long first, long last) {
        FsLayout.FileEntry e = inode.entry();
        if (!hasHole(e, first, last)) {
            return;
        }
        try (Handle h = journal.start()) {
            h.lockBuffer(ags[e.ag()].agf());
            java.util.BitSet holes = new java.util.BitSet(); // offsets from first of the holes to allocate
            boolean convert = false;
            for (long i = first; i <= last; i++) {
                if (e.isAllocated(i)) {
                    continue;
                }
                // Else it extends an extent: its left neighbour allocated before or in this call, or its right one.
                boolean newExtent = !e.isAllocated(i - 1) && !(i > first && holes.get(Math.toIntExact(i - 1 - first)))
                        && !e.isAllocated(i + 1);
                if (newExtent && e.forkFull() && !convert) {
                    convert = true; // the first new extent converts the fork; later ones go into the btree
                    h.holdBuffer(cache.allocator().allocate(1, BUFFER_GFP)); // xfs_trans_get_buf of the new bmbt block
                }
                holes.set(Math.toIntExact(i - first));
            }
            sbLock.lock();
            try {
                if (convert) {
                    e.convertedToBtree();
                }
                for (int k = holes.nextSetBit(0); k >= 0; k = holes.nextSetBit(k + 1)) {
                    e.markAllocated(first + k);
                }
            } finally {
                sbLock.unlock();
            }
            h.logInode(inode);
        }
    }

    private boolean hasHole(FsLayout.FileEntry e, long first, long last) {
        if (e.fullyAllocated()) {
            return false; // no lock: a file without holes never gets one
        }
        sbLock.lock();
        try {
            for (long i = first; i <= last; i++) {
                if (!e.isAllocated(i)) {
                    return true;
                }
            }
            return false;
        } finally {
            sbLock.unlock();
        }
    }

    /** A write boundary inside page {@code index}, which holds data on disk, reads that page first. */
    private void readPartialPage(Inode inode, long boundary, long index) {
        if (boundary % Bio.PAGE_SIZE != 0 && index * Bio.PAGE_SIZE < inode.size) {
            inode.mapping().read(index, 1);
        }
    }

    /**
     * Writes the file's dirty pages and waits for them, then makes its logged changes durable
     * ({@code xfs_file_fsync}: a log force up to the inode's last commit, or a cache flush of the
     * device when there is nothing to force).
     *
     * @return {@link BlkStatus#OK}, or the writeback or log error
     */
    public BlkStatus fsync(OpenFile file) {
        file.checkOpen();
        if (options.readOnly()) {
            return BlkStatus.OK;
        }
        Inode inode = file.inode();
        BlkStatus data = inode.mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE);
        if (inode.commitSeq > journal.committedSeq()) {
            journal.forceSeq(inode.commitSeq);
        } else {
            BlkStatus flush = BlockLayer.submitBioWait(new Bio(BioOp.FLUSH, Bio.REQ_PREFLUSH, device, 0, 0, null, null,
                    "fsync flush " + file));
            if (data == BlkStatus.OK) {
                data = flush;
            }
        }
        return journal.isAborted() && data == BlkStatus.OK ? BlkStatus.IOERR : data;
    }

    /**
     * Writes the file's dirty pages and waits for their writeback, without touching the log:
     * {@code sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
     * SYNC_FILE_RANGE_WAIT_AFTER)}, which {@code sync_file_range} (fs/sync.c) turns into
     * {@code __filemap_fdatawrite_range(WB_SYNC_ALL)} plus {@code file_fdatawait_range}. The data is on
     * the device when this returns; the inode's logged changes (a size grown by the writes) stay in the
     * CIL, pinning the inode until something forces the log. No cache flush.
     *
     * @return {@link BlkStatus#OK}, or the writeback error
     */
    public BlkStatus syncFileRange(OpenFile file) {
        file.checkOpen();
        if (options.readOnly()) {
            return BlkStatus.OK;
        }
        return file.inode().mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE);
    }

    private static void checkIo(String op, OpenFile file, long offset, long length) {
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException(op + " of " + length + " bytes at offset " + offset + " of " + file
                    + ": the offset must be >= 0 and the length >= 1");
        }
    }

    // ------------------------------------------------------------------ unmount

    /**
     * Unmounts: writes back every file, forces the log, frees every page and inode, unregisters the
     * shrinker and destroys the CIL queue.
     *
     * @throws IllegalStateException if a file is still open ({@code EBUSY}); nothing is changed then
     */
    public void unmount() {
        int inUse = icache.cached().size() - (int) icache.countUnused();
        if (inUse > 0) {
            throw new IllegalStateException("umount " + name + ": " + inUse + " file(s) still open (EBUSY)");
        }
        shrinker.close();
        if (journal != null) {
            for (Inode inode : icache.cached()) {
                inode.mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE);
            }
            journal.forceLog();
        }
        icache.prune(Long.MAX_VALUE, journal);
        if (journal != null) {
            journal.close();
            journal.queue().destroy();
        }
    }

    @Override
    public String toString() {
        return "journalfs " + name + " (" + options + ")";
    }
}
