package dev.rescuer.storage.writeback;

import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.pagecache.AddressSpace;
import dev.rescuer.storage.pagecache.InodeWriteback;
import dev.rescuer.storage.pagecache.WbStat;
import dev.rescuer.storage.pagecache.WritebackControl;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * The writeback of one device ({@code struct bdi_writeback}): its dirty inodes ({@code b_dirty}) and
 * its writeback item ({@code wb->dwork}, running {@code wb_workfn}) on the {@code writeback}
 * workqueue.
 *
 * <p><b>What runs the item.</b> Three kinds of request queue it, as in the kernel: the dirty
 * throttle ({@code wb_start_background_writeback}: write while dirty pages exceed the background
 * threshold), reclaim ({@code wakeup_flusher_threads(WB_REASON_VMSCAN)}: write about that many
 * pages), and callers of {@link #startWriteback(long)}. The item writes each dirty inode in turn,
 * at most {@link #MAX_WRITEBACK_PAGES} pages at a time with {@code WB_SYNC_NONE}: it submits and
 * never waits for the I/O, so it cannot itself hang on a device; it can only wait for a worker to run
 * it, which is why {@code bdi_wq} is {@code WQ_MEM_RECLAIM}: reclaim depends on this item.
 * A request arriving while the item runs queues it again, and it runs once more after (workqueue
 * non-reentrancy), so no request is lost. A pass that writes nothing (every dirty page is still
 * under older writeback) ends the run, as {@code wb_writeback} stops without progress; the kernel
 * then sleeps on that inode's writeback, here the next request (a throttled writer re-checking after
 * a writeback ends, reclaim) queues the item again.
 *
 * <p><b>Left out on purpose:</b> periodic writeback of old data ({@code dirty_writeback_interval},
 * {@code dirty_expire_interval}), cgroup writeback, {@code b_io}/{@code b_more_io}/
 * {@code b_dirty_time} (an inode that still has dirty pages after its turn goes to the tail of
 * {@code b_dirty}), {@code WB_SYNC_ALL} from here ({@code sync(2)}; {@code fsync} writes its own file
 * through {@link AddressSpace#filemapWriteAndWaitRange}).
 *
 * <p><b>Locking.</b> {@code listLock} ({@code wb->list_lock}) guards {@code bDirty},
 * {@code nrPagesRequested}, {@code background} and {@code pagesSubmitted}. It is taken before the
 * page cache's lock, never inside it; the item drops it around {@link AddressSpace#writepages}.
 *
 * <p><b>Memory ordering.</b> {@code running} is volatile, written only by the item (true first,
 * false last, then the throttle's wait queue is woken with a fencing {@code wakeUpAll}); a throttled
 * writer's wait condition reads it with the item's PENDING bit. A writer that saw {@code running}
 * before the item cleared it is already on the wait queue, so the wake-up after the clear reaches it.
 * A request set under {@code listLock} before {@code queue} is seen by the run that queueing causes.
 */
public final class BdiWriteback implements InodeWriteback {

    /**
     * Declares to {@code graph} who waits on this writeback: page reclaim ({@link WaitGraph#VMSCAN}) waits on
     * {@code bdi_wq} (a dirty page is freed only once the flusher has written it:
     * {@code wakeup_flusher_threads}), and the item waits on this device (it submits the pages'
     * bios; {@code submit_bio} can sleep in the device's map, a COW throttle for instance). The
     * device must be declared.
     */
    public void declareWaits(WaitGraph graph) {
        graph.queue(bdiWq);
        graph.node(WaitGraph.VMSCAN, WaitGraph.NodeKind.RECLAIM);
        graph.waitsOn(WaitGraph.VMSCAN, bdiWq.name(), "shrink_folio_list -> wakeup_flusher_threads: dirty pages are freed once the flusher wrote them");
        graph.waitsOn(bdiWq.name(), name, "wb_workfn -> writeback_sb_inodes -> submit_bio of " + name + "'s dirty pages");
    }

    /** The kernel's {@code MAX_WRITEBACK_PAGES}: pages written from one inode before moving on. */
    public static final int MAX_WRITEBACK_PAGES = 1024;

    /** The flags of the kernel's {@code bdi_wq} ({@code default_bdi_init}). */
    public static final WqFlag[] BDI_WQ_FLAGS = {WqFlag.MEM_RECLAIM, WqFlag.UNBOUND, WqFlag.FREEZABLE};

    private final String name;
    private final WorkQueue bdiWq;
    private final DirtyThrottle domain;
    private final SpinLock listLock;
    private final Work work;
    /** Where this device's throttled writers sleep ({@code balance_dirty_pages}); released by {@link #work}. */
    private final WaitQueue throttleWait;
    /** {@code wb->stat[]}: this device's dirty and writeback pages, kept by the page cache. */
    private final WbStat stat = new WbStat();
    /** {@code wb->completions}: pages of this device whose writeback ended. */
    private final LongAdder completions = new LongAdder();

    private final LinkedHashSet<AddressSpace> bDirty = new LinkedHashSet<>(); // Guarded by listLock
    private long nrPagesRequested;   // Guarded by listLock
    private boolean background;      // Guarded by listLock
    private long pagesSubmitted;     // Guarded by listLock
    /** The item's body is running; written only by the item, read by throttled writers' conditions. */
    private volatile boolean running;

    /**
     * The writeback of device {@code name}, queueing its item on {@code bdiWq} and throttling
     * writers with {@code domain}.
     */
    public BdiWriteback(String name, WorkQueue bdiWq, DirtyThrottle domain) {
        this.name = Objects.requireNonNull(name, "name");
        this.bdiWq = Objects.requireNonNull(bdiWq, "bdiWq");
        this.domain = Objects.requireNonNull(domain, "domain");
        this.listLock = new SpinLock(domain.cache().platform(), "wb " + name + "/list_lock", "wb->list_lock");
        this.work = new Work("wb_workfn " + name, this::wbWorkfn);
        this.throttleWait = new WaitQueue(domain.cache().platform(), "wb " + name + "/balance_dirty_pages", "balance_dirty_pages");
        this.throttleWait.setOwner(this);
        domain.register(this);
    }

    /** Creates the kernel's {@code bdi_wq}: {@code "writeback"}, {@link #BDI_WQ_FLAGS}, default max active. */
    public static WorkQueue allocBdiWq(Workqueues workqueues) {
        return workqueues.create("writeback", 0, BDI_WQ_FLAGS);
    }

    /** The device's name. */
    public String name() {
        return name;
    }

    /** The writeback item ({@code wb->dwork}), for reports and releasers. */
    public Work work() {
        return work;
    }

    /** The queue the item runs on. */
    public WorkQueue queue() {
        return bdiWq;
    }

    /** The throttle this device's writers are held by. */
    public DirtyThrottle domain() {
        return domain;
    }

    /**
     * The wait queue this device's throttled writers sleep on, for reports and releasers: only this
     * device's writeback item releases them (it is what {@code balance_dirty_pages} kicks, and for a
     * {@code PF_LOCAL_THROTTLE} writer the only one whose progress counts).
     */
    public WaitQueue throttleWait() {
        return throttleWait;
    }

    @Override
    public WbStat stat() {
        return stat;
    }

    /** Pages of this device whose writeback ended so far ({@code wb->completions}). */
    public long completions() {
        return completions.sum();
    }

    void writeoutAdd(int pages) {
        completions.add(pages);
    }

    /** Pages the item has submitted for writeback so far. */
    public long pagesSubmitted() {
        listLock.lock();
        try {
            return pagesSubmitted;
        } finally {
            listLock.unlock();
        }
    }

    /**
     * Whether the item is queued or its body is running ({@code writeback_in_progress}). Never blocks;
     * a throttled writer's wait condition reads it.
     */
    public boolean writebackInProgress() {
        return running || work.isPending();
    }

    @Override
    public void markInodeDirty(AddressSpace mapping) {
        listLock.lock();
        try {
            bDirty.add(mapping);
        } finally {
            listLock.unlock();
        }
    }

    @Override
    public void balanceDirtyPagesRatelimited(AddressSpace mapping) {
        domain.balanceDirtyPages(this);
    }

    @Override
    public void wakeupFlusher(long nrPages) {
        startWriteback(nrPages);
    }

    @Override
    public void writebackEnded(AddressSpace mapping, int pages) {
        domain.writeoutAdd(this, pages); // __wb_writeout_add
    }

    /** Asks the item to write about {@code nrPages} more pages ({@code wb_start_writeback}). Never sleeps. */
    public void startWriteback(long nrPages) {
        if (nrPages < 1) {
            throw new IllegalArgumentException("writeback of " + nrPages + " pages on " + name);
        }
        listLock.lock();
        try {
            nrPagesRequested += nrPages;
        } finally {
            listLock.unlock();
        }
        bdiWq.queue(work); // false when already pending: it will see the request
    }

    /** Asks the item to write while over the background threshold ({@code wb_start_background_writeback}). */
    public void startBackgroundWriteback() {
        listLock.lock();
        try {
            background = true;
        } finally {
            listLock.unlock();
        }
        bdiWq.queue(work);
    }

    /**
     * The item's body ({@code wb_workfn}). When it returns, throttled writers are woken to check
     * whether they must queue it again ({@code running} is cleared first, so none misses that).
     */
    private void wbWorkfn() {
        running = true;
        try {
            wbDoWriteback();
        } finally {
            running = false;
            domain.writebackEnded();
        }
    }

    /** Writes dirty inodes while a request or the background threshold asks for it ({@code wb_do_writeback}). */
    private void wbDoWriteback() {
        while (true) {
            AddressSpace mapping;
            long chunk;
            listLock.lock();
            try {
                if (nrPagesRequested > 0) {
                    chunk = Math.min(nrPagesRequested, MAX_WRITEBACK_PAGES);
                } else if (background && domain.overBackgroundThresh(this)) {
                    chunk = MAX_WRITEBACK_PAGES;
                } else {
                    background = false;
                    return;
                }
                Iterator<AddressSpace> it = bDirty.iterator();
                if (!it.hasNext()) {
                    nrPagesRequested = 0; // nothing dirty left to write
                    background = false;
                    return;
                }
                mapping = it.next();
                it.remove();
            } finally {
                listLock.unlock();
            }
            long written = mapping.writepages(WritebackControl.background(chunk));
            boolean stillDirty = mapping.nrDirty() > 0;
            listLock.lock();
            try {
                pagesSubmitted += written;
                nrPagesRequested = Math.max(0, nrPagesRequested - Math.max(written, 1));
                if (stillDirty) {
                    bDirty.add(mapping); // back of b_dirty, as requeue_io does via b_more_io
                }
            } finally {
                listLock.unlock();
            }
            if (written == 0) {
                return; // no progress: what is dirty is still under older writeback; the next request re-queues
            }
        }
    }

    @Override
    public String toString() {
        return "bdi_writeback " + name;
    }
}
