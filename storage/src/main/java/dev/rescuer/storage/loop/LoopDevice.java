package dev.rescuer.storage.loop;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkFlush;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.OpenFile;
import dev.rescuer.storage.fs.ReadOnlyFilesystemException;
import dev.rescuer.storage.pagecache.AddressSpace;
import dev.rescuer.storage.pagecache.PageIoException;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;

import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A loop device ({@code drivers/block/loop.c}) backed by a file of a {@link JournalFs}.
 *
 * <p><b>Request path.</b> {@link #submitBio} ({@code loop_queue_rq}) only queues the bio on the
 * device's command list and kicks the worker ({@code loop_queue_work}); it never sleeps. The worker
 * ({@link LoopWorkerMode}: the device's kthread {@code loop<N>}, or a work item on the device's
 * workqueue) takes commands one by one ({@code loop_process_work}) and serves each
 * ({@code loop_handle_cmd} → {@code do_req_filebacked}):
 * <ul>
 *   <li>buffered ({@code lo_write_simple}, {@code lo_read_simple}): {@link JournalFs#write} /
 *       {@link JournalFs#read} of the backing file, which take the inode's lock, allocate the blocks
 *       of holes (a transaction holding the allocation group's AGF) and allocate page-cache pages in
 *       the backing file's mapping context, {@code GFP_NOIO} while the device is bound (see below);
 *   <li>direct I/O ({@code lo_rw_aio} with {@code LO_FLAGS_DIRECT_IO}): allocates a {@code struct dio}
 *       with {@code GFP_KERNEL} ({@code do_blockdev_direct_IO}'s {@code kmem_cache_alloc}, one page
 *       here), allocates the blocks of holes a write covers ({@link JournalFs#allocateForDirectWrite}),
 *       then submits a bio to the backing file's blocks on the filesystem's device; its
 *       completion frees the dio and ends the loop bio ({@code lo_rw_aio_complete}). A failed dio
 *       allocation ends the request with an error ({@code -ENOMEM});
 *   <li>flush ({@code lo_req_flush}): {@link JournalFs#fsync} of the backing file ({@code vfs_fsync}),
 *       which writes the file's dirty pages and waits for them, then forces the backing filesystem's
 *       log up to the file's last change (a {@code flush_work} of its CIL push) or flushes its device.
 *       The device advertises a volatile write cache without FUA, so a write with
 *       {@code REQ_PREFLUSH} or {@code REQ_FUA} (a filesystem's log commit) reaches the worker as a
 *       flush, the data, and a flush ({@link BlkFlush}).
 * </ul>
 * With {@link LoopSettings#memallocNoio()} the worker serves every command inside a
 * {@code memalloc_noio} scope, so each of those allocations is at most {@code GFP_NOIO} and its
 * direct reclaim never starts I/O nor enters a filesystem (d0a255e795ab). The worker always serves
 * with {@code PF_LOCAL_THROTTLE} ({@link DirtyThrottle#PF_LOCAL_THROTTLE}, 5.9's flag, which both
 * {@code loop_kthread_worker_fn} and {@code loop_process_work} set): a buffered write of the image
 * that finds the system over its dirty limit waits only until the backing device's own dirty pages
 * are below that device's freerun ceiling, since the dirty pages of the filesystem above are this
 * worker's to clean. Kernels before 5.9 set {@code PF_LESS_THROTTLE} instead (raised thresholds),
 * not modelled.
 *
 * <p><b>The backing file's mapping mask.</b> Binding the file clears {@code __GFP_IO | __GFP_FS} from
 * its mapping's mask ({@code loop_configure}, and {@code loop_set_fd} before it:
 * {@code mapping_set_gfp_mask(mapping, lo->old_gfp_mask & ~(__GFP_IO | __GFP_FS))}), so every
 * page-cache allocation of the image, the worker's and any other writer's of that file, is at most
 * {@code GFP_NOIO}; {@link #close} restores the old mask ({@code __loop_clr_fd}). Allocations the
 * filesystem makes outside the mapping (a transaction's metadata, a dio) keep their own context.
 *
 * <p>Left out on purpose: the page cache carries no content in this model, so buffered requests
 * move no data (direct I/O does); XFS's {@code IOLOCK_SHARED} on direct I/O (direct requests here
 * take no inode lock); per-cgroup workers; discard, write-zeroes and partitions; {@code loop_configure}'s
 * ioctls (a device is bound to its file when built).
 *
 * <p><b>Memory ordering.</b> The command list is a lock-free queue (the kernel's {@code lo_work_lock}
 * spin lock around a list): a submitter adds a bio, then wakes the worker; the kthread's wait
 * condition reads the queue after queueing itself on {@code workWait}, so a bio is either seen or the
 * wake-up arrives. {@code stopping} is volatile, written once by {@link #close}.
 */
public final class LoopDevice implements BlockDevice {

    private final String name;
    private final Platform platform;
    private final PageAllocator allocator;
    private final JournalFs fs;
    private final OpenFile backing;
    private final long backingStartSector;
    private final long capacitySectors;
    private final LoopSettings settings;
    /** The backing mapping's mask before binding ({@code lo->old_gfp_mask}), restored by {@link #close}. */
    private final Gfp oldGfpMask;
    /** The command list ({@code lo->rootcg_cmd_list}); lock-free. */
    private final Queue<Bio> cmdList = new ConcurrentLinkedQueue<>();
    /** The kthread's wait queue; {@code null} in workqueue mode. */
    private final WaitQueue workWait;
    /** The kthread; {@code null} in workqueue mode. Written once by the constructor. */
    private final Task worker;
    /** The device's workqueue and its work item; {@code null} in kthread mode. */
    private final WorkQueue workqueue;
    private final Work rootcgWork;
    /** Set once by {@link #close}; the kthread's wait condition. */
    private volatile boolean stopping;

    /**
     * Binds loop device {@code name} to file {@code backing} of {@code fs} ({@code LOOP_CONFIGURE})
     * and starts its worker. If it fails once the backing mapping's mask is narrowed (its worker or
     * queue cannot be made), the mask is restored and the file closed before the exception leaves, as
     * {@code loop_configure}'s error path leaves the file as it found it ({@code fput}).
     *
     * @throws IllegalArgumentException if the file does not exist in {@code fs}
     */
    public LoopDevice(RescuerSystem system, String name, JournalFs fs, FsLayout.FileEntry backing, LoopSettings settings) {
        this.name = Objects.requireNonNull(name, "name");
        this.platform = system.platform();
        this.allocator = system.pages();
        this.fs = Objects.requireNonNull(fs, "fs");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.backing = fs.open(backing.name());
        AddressSpace mapping = this.backing.inode().mapping();
        this.oldGfpMask = mapping.gfpMask();
        // old & ~(__GFP_IO | __GFP_FS): the bits a NOIO scope clears (current_gfp_context), modifiers kept
        mapping.setGfpMask(oldGfpMask.scopedBy(MemallocScope.NOIO));
        try {
            this.backingStartSector = backing.startBlock() * FsLayout.BLOCK_SECTORS;
            this.capacitySectors = backing.blocks() * FsLayout.BLOCK_SECTORS;
            if (settings.worker() == LoopWorkerMode.KTHREAD) {
                this.workWait = WaitQueue.idle(platform, name + "/worker", "loop kthread_worker");
                this.workqueue = null;
                this.rootcgWork = null;
                this.worker = platform.startThread(name, this::loopKthreadWorkerFn);
            } else {
                this.workWait = null;
                this.worker = null;
                this.workqueue = system.workqueues().create(name, 0, WqFlag.UNBOUND, WqFlag.FREEZABLE);
                this.rootcgWork = new Work(name + " loop_workqueue_workfn", this::loopProcessWork);
            }
        } catch (RuntimeException | Error e) {
            // Nothing was started: give the mapping its mask back (the field write only) and, unless the
            // platform is tearing the task down (which takes no lock on the way out), drop the file.
            mapping.setGfpMask(oldGfpMask);
            if (!(e instanceof TaskAbortedError)) {
                this.backing.close();
            }
            throw e;
        }
    }

    /**
     * Declares who waits on whom: an I/O on this device waits for its worker ({@code loop_queue_rq}
     * only queues the command), the queue {@code loopN} (node {@code "wq loopN"}, since the device
     * has the same name; no {@code WQ_MEM_RECLAIM}, as upstream's
     * {@code alloc_workqueue("loop%d", WQ_UNBOUND | WQ_FREEZABLE, 0)}, which the analyzer reports
     * when reclaim can reach it) or, in kthread mode, the kthread (a point). The worker waits on the
     * backing filesystem's device (the file's I/O goes through it); on the backing filesystem's CIL
     * queue, which it flushes for a flush request ({@code lo_req_flush} → {@code vfs_fsync} →
     * {@code xlog_cil_force_seq} → {@code flush_work} of the push; every {@code REQ_PREFLUSH} or
     * {@code REQ_FUA} write brings one); and, for buffered I/O, on the backing device's writeback
     * ({@code lo_write_simple} dirties the image's pages and {@code balance_dirty_pages} holds the
     * worker, {@code PF_LOCAL_THROTTLE}, until that device's {@code wb_workfn} has cleaned enough of
     * them). This device and the backing device must be declared; the queues are declared here too.
     */
    public void declareWaits(WaitGraph g) {
        String w;
        if (workqueue != null) {
            w = "wq " + workqueue.name(); // the queue has the device's name, as upstream's
            g.queue(workqueue, w);
        } else {
            w = name + " kthread";
            g.node(w, WaitGraph.NodeKind.POINT);
        }
        g.waitsOn(name, w, "loop_queue_rq -> loop_queue_work: the command runs on the loop worker");
        g.waitsOn(w, fs.device().name(), "lo_rw_aio: the backing file's I/O goes through " + fs.name() + " to " + fs.device().name());
        if (fs.journal() != null) {
            g.queue(fs.journal().queue());
            g.flushes(w, fs.journal().queue().name(),
                    "lo_req_flush -> vfs_fsync -> xlog_cil_force_seq: flush_work of " + fs.name() + "'s CIL push");
        }
        if (!settings.directIo() && fs.writeback() instanceof BdiWriteback wb) {
            g.queue(wb.queue());
            g.waitsOn(w, wb.queue().name(), "lo_write_simple -> balance_dirty_pages: PF_LOCAL_THROTTLE waits for wb_workfn "
                    + wb.name() + " to clean the image's pages");
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String driver() {
        return "loop";
    }

    @Override
    public long capacitySectors() {
        return capacitySectors;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    /** The device's settings. */
    public LoopSettings settings() {
        return settings;
    }

    /** The kthread worker, or {@code null} in workqueue mode. */
    public Task workerTask() {
        return worker;
    }

    /** The work item that serves the device in workqueue mode, or {@code null}. */
    public Work work() {
        return rootcgWork;
    }

    /** The kthread's wait queue, or {@code null} in workqueue mode. */
    public WaitQueue workWait() {
        return workWait;
    }

    /**
     * {@code blk_mq_submit_bio} → {@code loop_queue_rq}: the device has a volatile write cache and no
     * FUA ({@code loop_configure}: {@code blk_queue_write_cache(lo->lo_queue, true, false)}), so a write
     * with {@code REQ_PREFLUSH} or {@code REQ_FUA} first goes through the block layer's flush sequence
     * ({@link BlkFlush#blkInsertFlush}): a flush before the data for {@code REQ_PREFLUSH}, the data
     * without the flags, and a flush after it for {@code REQ_FUA}, each queued when the one before
     * completed, and each flush served by {@code lo_req_flush}. Never sleeps.
     */
    @Override
    public void submitBio(Bio bio) {
        if (BlkFlush.blkInsertFlush(bio, false, this::loopQueueRq)) {
            return;
        }
        loopQueueRq(bio);
    }

    /**
     * {@code loop_queue_rq}: queues the request for the worker ({@code loop_queue_work}); never sleeps.
     * The bio records the worker (the kthread, or the work item on the device's queue) as who
     * completes it.
     */
    private void loopQueueRq(Bio bio) {
        if (stopping) {
            bio.endio(BlkStatus.IOERR);
            return;
        }
        // The worker completes the bio from now on (recorded for reports before the bio is visible to it).
        if (workqueue != null) {
            bio.handTo(rootcgWork);
            cmdList.add(bio);
            workqueue.queue(rootcgWork);
        } else {
            bio.handTo(worker);
            cmdList.add(bio);
            workWait.wakeUp();
        }
    }

    /** {@code loop_kthread_worker_fn}: the device's thread, serving commands until the device closes. */
    private void loopKthreadWorkerFn() {
        while (true) {
            workWait.waitEvent(() -> stopping || !cmdList.isEmpty());
            if (stopping && cmdList.isEmpty()) {
                return;
            }
            loopProcessWork();
        }
    }

    /**
     * {@code loop_process_work}: serves the queued commands with {@code PF_LOCAL_THROTTLE} set (the
     * dirty throttle holds the worker only against the backing device's own dirty pages), and under
     * {@code PF_MEMALLOC_NOIO} if {@link LoopSettings#memallocNoio()}; {@code current->flags} is
     * restored after, as the kernel's {@code current->flags = orig_flags}.
     */
    private void loopProcessWork() {
        Task self = platform.currentTask();
        int origFlags = self.flags();
        self.setFlags(origFlags | DirtyThrottle.PF_LOCAL_THROTTLE);
        try {
            if (settings.memallocNoio()) {
                try (MemallocScope noio = MemallocScope.noio(platform)) {
                    drainCmdList();
                }
            } else {
                drainCmdList();
            }
        } finally {
            self.setFlags(origFlags);
        }
    }

    private void drainCmdList() {
        Bio bio;
        while ((bio = cmdList.poll()) != null) {
            loopHandleCmd(bio);
        }
    }

    /** {@code loop_handle_cmd} → {@code do_req_filebacked}. */
    private void loopHandleCmd(Bio bio) {
        bio.takeOver(); // the worker serves it from here until it hands it to the lower bio or ends it
        try {
            switch (bio.op()) {
                case FLUSH:
                    bio.endio(fs.fsync(backing)); // lo_req_flush -> vfs_fsync: the backing filesystem forces its log
                    return;
                case READ:
                case WRITE:
                    if (settings.directIo()) {
                        loRwAio(bio);
                    } else {
                        long offset = bio.sector() * Bio.SECTOR_SIZE;
                        if (bio.op() == BioOp.WRITE) {
                            fs.write(backing, offset, bio.sizeBytes()); // lo_write_simple
                        } else {
                            fs.read(backing, offset, bio.sizeBytes()); // lo_read_simple
                        }
                        bio.endio(BlkStatus.OK);
                    }
                    return;
                default:
                    bio.endio(BlkStatus.IOERR); // discard and the rest are left out
            }
        } catch (PageIoException | ReadOnlyFilesystemException e) {
            bio.endio(BlkStatus.IOERR); // the file's read or write failed: the request fails with it
        }
    }

    /**
     * {@code lo_rw_aio}: direct I/O to the backing file's blocks; the dio is allocated with
     * {@code GFP_KERNEL}, then a write allocates the holes it covers ({@code iomap_dio_rw} allocates
     * the dio before {@code iomap_iter} maps the range, and frees it if the mapping fails, as on a
     * read-only filesystem), then the bio goes to the backing device.
     */
    private void loRwAio(Bio bio) {
        Pages dio = allocator.tryAllocate(1, Gfp.KERNEL);
        if (dio == null) {
            bio.endio(BlkStatus.IOERR); // -ENOMEM
            return;
        }
        if (bio.op() == BioOp.WRITE) {
            try {
                fs.allocateForDirectWrite(backing, bio.sector() * Bio.SECTOR_SIZE, bio.sizeBytes()); // a hole of a sparse image
            } catch (RuntimeException e) {
                dio.free(); // __iomap_dio_rw's out_free_dio: a failed mapping frees the dio; the request fails
                throw e;
            }
        }
        Bio lower = new Bio(bio.op(), bio.flags(), fs.device(), backingStartSector + bio.sector(), bio.sizeBytes(), null, null,
                name + " lo_rw_aio");
        if (bio.data() != null) {
            lower.setData(bio.data(), bio.dataOffset());
        }
        bio.handTo(lower); // ends in lo_rw_aio_complete
        lower.setEndIo(done -> { // lo_rw_aio_complete
            dio.free();
            bio.endio(done.status());
        });
        BlockLayer.submitBioNoacct(lower);
    }

    /**
     * Detaches the device ({@code LOOP_CLR_FD}, {@code __loop_clr_fd}): stops the worker after the
     * queued commands, gives the backing file's mapping its old mask back and closes the file;
     * idempotent.
     */
    public void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        if (worker != null) {
            workWait.wakeUpAll();
            if (worker != platform.currentTask()) {
                platform.join(worker);
            }
        } else {
            rootcgWork.flush();
        }
        backing.inode().mapping().setGfpMask(oldGfpMask); // mapping_set_gfp_mask(filp->f_mapping, gfp)
        backing.close();
    }

    @Override
    public String toString() {
        return "loop " + name + " on " + fs.name() + " (" + settings.worker().key() + (settings.memallocNoio() ? ", noio" : "")
                + (settings.directIo() ? ", direct-io" : "") + ")";
    }
}
