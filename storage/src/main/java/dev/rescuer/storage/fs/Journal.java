package dev.rescuer.storage.fs;

import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The log of a read-write {@link JournalFs}: XFS's delayed-logging CIL ({@code fs/xfs/xfs_log_cil.c})
 * with jbd2's commit-block discipline.
 *
 * <p><b>Contexts.</b> Committed transactions add their items to the open context (sequence
 * {@code currentSeq}) under {@code ctxLock} held for read ({@code xc_ctx_lock}). The push item
 * ({@code xlog_cil_push_work}, on the filesystem's own {@code xfs-cil} queue, {@link #CIL_WQ_FLAGS})
 * takes {@code ctxLock} for write just long enough to close the context and open the next, then
 * writes it: log blocks as {@code WRITE|REQ_META|REQ_SYNC} bios, then a commit block with
 * {@code REQ_PREFLUSH|REQ_FUA} (the cache flush before it makes the log blocks durable first, FUA
 * makes the commit block itself durable), waiting for each, into preallocated log buffers
 * ({@code iclogs}), so a push never allocates memory. When the commit block is on disk, the sizes it
 * logged become the disk's ({@link FsLayout}), its inodes are unpinned and waiters are woken.
 *
 * <p><b>Forcing.</b> {@link #forceSeq} is {@code xlog_cil_force_seq}: queue the push if the wanted
 * context is still open, {@code flush_work} on the push item, then wait until that sequence is on
 * disk. A background push is queued when the open context holds {@code pushThreshold} items
 * ({@code xlog_cil_push_background}). The push item runs on a {@code MEM_RECLAIM} queue because
 * reclaim waits for it: the inode cache's shrinker forces the log to unpin inodes.
 *
 * <p><b>Left out on purpose:</b> log space reservation and tail pushing (the log never fills;
 * {@code xfs_trans_reserve} never blocks), recovery (mounting never replays: the layout already
 * holds what was committed), checkpoints of metadata to its home location, ordered data. An I/O error
 * in the log aborts the journal, as {@code xfs_force_shutdown} would: inodes are unpinned, waiters
 * return, and new transactions are refused.
 *
 * <p><b>Locking and ordering.</b> {@code cilLock} ({@code xc_cil_lock}) guards {@code cil},
 * {@code currentSeq} and the inodes' {@code commitSeq}; it nests inside {@code ctxLock}. The push
 * item's own fields ({@code logHead}) are owned by it: a work item never runs concurrently with
 * itself. {@code committedSeq} and {@code aborted} are volatile, written by the push item before
 * {@link WaitQueue#wakeUpAll()} on {@code commitWait}, read by waiters' conditions.
 */
public final class Journal {

    /** The flags of XFS's CIL queue ({@code xfs_init_mount_workqueues}: {@code "xfs-cil/%s"}). */
    public static final WqFlag[] CIL_WQ_FLAGS = {WqFlag.FREEZABLE, WqFlag.MEM_RECLAIM, WqFlag.UNBOUND};
    /** The CIL queue's max active, as XFS creates it. */
    public static final int CIL_MAX_ACTIVE = 4;
    /** Items that fit one log block. */
    public static final int ITEMS_PER_LOG_BLOCK = 16;

    private final String name;
    private final Platform platform;
    private final BlockDevice device;
    private final FsLayout layout;
    private final SpinLock sbLock;
    private final WorkQueue cilWq;
    private final Pages iclogs;
    private final int pushThreshold;

    private final RwSemaphore ctxLock;
    private final SpinLock cilLock;
    private final WaitQueue commitWait;
    private final Work push;

    private Map<Inode, Long> cil = new LinkedHashMap<>(); // Guarded by cilLock: inode -> logged size
    private long currentSeq = 1;                          // Guarded by cilLock
    private volatile long committedSeq;                   // written by the push item
    private volatile boolean aborted;                     // written by the push item
    private volatile long logBlocksWritten;               // written by the push item
    private volatile long pushesRun;                      // written by the push item
    private int logHead;                                  // owned by the push item

    Journal(String name, BlockDevice device, FsLayout layout, SpinLock sbLock, WorkQueue cilWq, Pages iclogs, int pushThreshold) {
        this.name = name;
        this.platform = device.platform();
        this.device = device;
        this.layout = layout;
        this.sbLock = sbLock;
        this.cilWq = cilWq;
        this.iclogs = iclogs;
        this.pushThreshold = pushThreshold;
        this.ctxLock = new RwSemaphore(platform, name + "/xc_ctx_lock", "xc_ctx_lock");
        this.cilLock = new SpinLock(platform, name + "/xc_cil_lock", "xc_cil_lock");
        this.commitWait = new WaitQueue(platform, name + "/xc_commit_wait", "xc_commit_wait");
        this.commitWait.setOwner(this);
        this.push = new Work("xlog_cil_push_work " + name, this::xlogCilPushWork);
    }

    /** Creates a filesystem's CIL queue, {@code "xfs-cil/<device>"}, with {@link #CIL_WQ_FLAGS}. */
    static WorkQueue allocCilWq(Workqueues workqueues, String device) {
        return workqueues.create("xfs-cil/" + device, CIL_MAX_ACTIVE, CIL_WQ_FLAGS);
    }

    /**
     * Declares to {@code graph} the CIL push queue and that its item waits on the log device
     * ({@code xlog_cil_push_work} writes the log with {@code submit_bio_wait}). The device must be
     * declared.
     */
    public void declareWaits(WaitGraph graph) {
        graph.queue(cilWq);
        graph.waitsOn(cilWq.name(), device.name(), "xlog_cil_push_work -> xlog_write: submit_bio_wait of the log on " + device.name());
    }

    /** The journal's name (its device's). */
    public String name() {
        return name;
    }

    /** The push item, for reports and releasers. */
    public Work pushItem() {
        return push;
    }

    /** The queue the push item runs on. */
    public WorkQueue queue() {
        return cilWq;
    }

    /** The wait queue of tasks waiting for a commit to reach the disk, for reports. */
    public WaitQueue commitWait() {
        return commitWait;
    }

    /** The highest sequence whose commit block is on disk. */
    public long committedSeq() {
        return committedSeq;
    }

    /** Log blocks written so far, commit blocks included. */
    public long logBlocksWritten() {
        return logBlocksWritten;
    }

    /** Pushes that wrote a context so far. */
    public long pushes() {
        return pushesRun;
    }

    /** Whether a log write failed and the journal refuses new transactions. */
    public boolean isAborted() {
        return aborted;
    }

    /**
     * Starts a transaction ({@code jbd2_journal_start}): the calling task enters a {@code nofs} scope
     * until the handle is closed.
     *
     * @throws IllegalStateException if the journal was aborted by a log I/O error
     */
    public Handle start() {
        if (aborted) {
            throw new IllegalStateException("journal " + name + " aborted after a log I/O error (EIO)");
        }
        return new Handle(this, MemallocScope.nofs(platform));
    }

    /** Adds a closed handle's items to the open context ({@code xlog_cil_commit}). */
    void commitHandle(Map<Inode, Long> items) {
        if (items.isEmpty()) {
            return;
        }
        int open;
        ctxLock.downRead();
        try {
            cilLock.lock();
            try {
                for (Map.Entry<Inode, Long> e : items.entrySet()) {
                    Inode inode = e.getKey();
                    if (cil.put(inode, e.getValue()) == null) {
                        inode.pinCount.incrementAndGet(); // xfs_ipin: once per context
                    }
                    inode.commitSeq = currentSeq;
                }
                open = cil.size();
            } finally {
                cilLock.unlock();
            }
        } finally {
            ctxLock.upRead();
        }
        if (open >= pushThreshold) {
            cilWq.queue(push); // xlog_cil_push_background
        }
    }

    /**
     * Makes sure sequence {@code seq} is on disk ({@code xlog_cil_force_seq}): queues the push if
     * that context is still open, waits for the push item ({@code flush_work}), then for the commit.
     * Returns at once if it is already on disk or the journal aborted.
     */
    public void forceSeq(long seq) {
        if (seq <= committedSeq || aborted) {
            return;
        }
        boolean open;
        cilLock.lock();
        try {
            open = seq >= currentSeq;
        } finally {
            cilLock.unlock();
        }
        if (open) {
            cilWq.queue(push);
        }
        push.flush();
        commitWait.waitEvent(() -> committedSeq >= seq || aborted);
    }

    /** Forces everything committed so far to disk ({@code xfs_log_force(XFS_LOG_SYNC)}). */
    public void forceLog() {
        long seq;
        cilLock.lock();
        try {
            seq = cil.isEmpty() ? currentSeq - 1 : currentSeq;
        } finally {
            cilLock.unlock();
        }
        forceSeq(seq);
    }

    /** Waits until {@code inode} is unpinned, forcing the log first ({@code xfs_iunpin_wait}). */
    void iunpinWait(Inode inode) {
        if (!inode.isPinned()) {
            return;
        }
        forceSeq(inode.commitSeq);
        commitWait.waitEvent(() -> !inode.isPinned() || aborted);
    }

    /** The push item's body ({@code xlog_cil_push_work}). */
    private void xlogCilPushWork() {
        Map<Inode, Long> items;
        long seq;
        ctxLock.downWrite();
        try {
            cilLock.lock();
            try {
                items = cil;
                seq = currentSeq;
                cil = new LinkedHashMap<>();
                currentSeq++;
            } finally {
                cilLock.unlock();
            }
        } finally {
            ctxLock.upWrite();
        }
        BlkStatus status = items.isEmpty() ? BlkStatus.OK : writeContext(items.size(), seq);
        if (status == BlkStatus.OK) {
            sbLock.lock();
            try {
                for (Map.Entry<Inode, Long> e : items.entrySet()) {
                    e.getKey().entry().setSizeBytes(e.getValue());
                }
            } finally {
                sbLock.unlock();
            }
        } else {
            aborted = true;
        }
        for (Inode inode : items.keySet()) {
            inode.pinCount.decrementAndGet(); // xfs_iunpin, from the commit's completion
        }
        if (status == BlkStatus.OK) {
            committedSeq = seq;
        }
        commitWait.wakeUpAll();
    }

    /** Writes one context's log blocks and its commit block, each waited for; returns the first error. */
    private BlkStatus writeContext(int items, long seq) {
        int blocks = (items + ITEMS_PER_LOG_BLOCK - 1) / ITEMS_PER_LOG_BLOCK;
        BlkStatus status = BlkStatus.OK;
        for (int b = 0; b < blocks && status == BlkStatus.OK; b++) {
            status = writeLogBlock(Bio.REQ_META | Bio.REQ_SYNC, "xlog write seq " + seq);
        }
        if (status == BlkStatus.OK) {
            status = writeLogBlock(Bio.REQ_META | Bio.REQ_SYNC | Bio.REQ_PREFLUSH | Bio.REQ_FUA, "xlog commit seq " + seq);
        }
        pushesRun = pushesRun + 1;
        return status;
    }

    private BlkStatus writeLogBlock(int flags, String origin) {
        long sector = layout.logSector(logHead);
        logHead = (logHead + 1) % layout.logBlocks();
        Bio bio = new Bio(BioOp.WRITE, flags, device, sector, layout.logSectorBytes(), iclogs, null, origin);
        BlkStatus st = BlockLayer.submitBioWait(bio);
        logBlocksWritten = logBlocksWritten + 1;
        return st;
    }

    /** Frees the log buffers; the journal must be idle (forced, push not pending). */
    void close() {
        iclogs.close();
    }
}
