package dev.rescuer.storage.dm.kcopyd;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BioSet;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.ArrayDeque;
import java.util.Objects;

/**
 * A kcopyd client ({@code struct dm_kcopyd_client}, {@code drivers/md/dm-kcopyd.c}): copies a region of
 * one device to another by bios, from its own {@code MEM_RECLAIM} workqueue, and calls the caller's
 * notify function from that queue when the copy is done.
 *
 * <p>A job ({@link #copy}, {@code dm_kcopyd_copy}) goes on the client's {@code io_jobs} list and the
 * client's one work item ({@code kcopyd_work}, {@code do_work}) is queued. The work runs the completed
 * jobs' notify functions first ({@code run_complete_job}), then starts the I/O of waiting jobs
 * ({@code run_io_job}): a read of the source into the job's buffer, then, when the read's interrupt
 * ({@code complete_io}) has put the job back on {@code io_jobs}, the write of the destination; the
 * write's interrupt moves the job to {@code complete_jobs}. Bios come from the client's own bio set,
 * allocated with {@code GFP_NOIO}.
 *
 * <p>Left out on purpose: the page list and its reserve (the copy buffer is a plain array; the model
 * charges no pages for it), the job mempool, several destinations, sub-jobs that split big copies,
 * zeroing, and the I/O throttle ({@code dm_kcopyd_throttle}).
 */
public final class KcopydClient {

    /** A region of a device ({@code struct dm_io_region}). */
    public record Region(BlockDevice device, long sector, int count) {
    }

    /** The caller's completion ({@code dm_kcopyd_notify_fn}); runs in the client's worker, may sleep. */
    @FunctionalInterface
    public interface NotifyFn {
        /** The copy is done; {@code readErr}/{@code writeErr} say whether either half failed. */
        void notify(boolean readErr, boolean writeErr);
    }

    /**
     * One copy ({@code struct kcopyd_job}); owned by whichever list or bio holds it. As a
     * {@link HandedOnEvent} its completer is the bio it has in flight, or the client's work item while
     * it sits on a list or its notify function runs; {@code null} once notified.
     */
    private static final class Job implements HandedOnEvent {
        final Region from;
        final Region to;
        final NotifyFn fn;
        final long[] buffer;
        boolean readDone;
        boolean readErr;
        boolean writeErr;
        /** Who moves the job on now; volatile, for reports only. */
        volatile Object completer;

        @Override
        public Object completer() {
            return completer;
        }

        @Override
        public String describe() {
            String what = from == null ? "kcopyd callback" : "kcopyd job " + from.device().name() + " " + from.sector() + "+"
                    + from.count() + " -> " + to.device().name() + " " + to.sector();
            Object c = completer;
            return what + (c == null ? ", done" : c instanceof Work ? ", on its list for" : ", waits for");
        }

        Job(Region from, Region to, NotifyFn fn) {
            this.from = from;
            this.to = to;
            this.fn = fn;
            this.buffer = from == null ? null : new long[from.count()];
        }
    }

    private final String name;
    private final Platform platform;
    private final WorkQueue kcopydWq;
    private final Work kcopydWork;
    private final BioSet bios;
    private final SpinLock jobLock;
    /** Jobs whose I/O is done. Guarded by {@link #jobLock}. */
    private final ArrayDeque<Job> completeJobs = new ArrayDeque<>();
    /** Jobs waiting to start their read or write. Guarded by {@link #jobLock}. */
    private final ArrayDeque<Job> ioJobs = new ArrayDeque<>();

    /**
     * A client with its own {@code kcopyd} workqueue ({@code dm_kcopyd_client_create}:
     * {@code alloc_workqueue("kcopyd", WQ_MEM_RECLAIM, 0)}).
     */
    public KcopydClient(RescuerSystem system, String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.platform = system.platform();
        this.kcopydWq = system.workqueues().create("kcopyd/" + name, 0, WqFlag.MEM_RECLAIM);
        this.kcopydWork = new Work("kcopyd do_work " + name, this::doWork);
        this.bios = new BioSet(system.pages(), null, "kcopyd-" + name, 16, 0);
        this.jobLock = new SpinLock(platform, "kcopyd " + name + "/job_lock", "&kc->job_lock");
    }

    /** The client's work item: who runs it runs every notify function. */
    public Work work() {
        return kcopydWork;
    }

    /** The client's workqueue. */
    public WorkQueue workqueue() {
        return kcopydWq;
    }

    /**
     * Copies {@code from} to {@code to} ({@code dm_kcopyd_copy}); returns at once, and {@code fn} runs
     * later in the client's worker.
     *
     * @return the job, for reports: who moves it on now (see {@link HandedOnEvent})
     *
     * @throws IllegalArgumentException if the regions differ in length
     */
    public HandedOnEvent copy(Region from, Region to, NotifyFn fn) {
        if (from.count() != to.count()) {
            throw new IllegalArgumentException("kcopyd " + name + ": source of " + from.count()
                    + " sectors, destination of " + to.count());
        }
        Job job = new Job(from, to, fn);
        push(ioJobs, job);
        wake();
        return job;
    }

    /**
     * Prepares a completion without a copy ({@code dm_kcopyd_prepare_callback}), for a caller that does
     * the I/O itself (dm-snapshot's full-chunk write): {@link #doCallback} later runs {@code fn} in the
     * client's worker, as a copy's notify function runs.
     *
     * @return the callback's job; its completer is {@code completer} until {@link #doCallback}
     */
    public HandedOnEvent prepareCallback(NotifyFn fn, Object completer) {
        Job job = new Job(null, null, Objects.requireNonNull(fn, "fn"));
        job.completer = completer;
        return job;
    }

    /**
     * Queues a prepared callback's notify function on the client's worker with the given result
     * ({@code dm_kcopyd_do_callback}); never sleeps, so it may run in interrupt context.
     *
     * @throws IllegalArgumentException if {@code callback} is not one of this client's prepared callbacks
     */
    public void doCallback(HandedOnEvent callback, boolean readErr, boolean writeErr) {
        if (!(callback instanceof Job job) || job.from != null) {
            throw new IllegalArgumentException("kcopyd " + name + ": " + callback + " is not a prepared callback");
        }
        job.readErr = readErr;
        job.writeErr = writeErr;
        push(completeJobs, job);
        wake();
    }

    private void push(ArrayDeque<Job> list, Job job) {
        job.completer = kcopydWork;
        jobLock.lock();
        try {
            list.addLast(job);
        } finally {
            jobLock.unlock();
        }
    }

    private Job pop(ArrayDeque<Job> list) {
        jobLock.lock();
        try {
            return list.pollFirst();
        } finally {
            jobLock.unlock();
        }
    }

    private void wake() {
        kcopydWq.queue(kcopydWork);
    }

    /** {@code do_work}. */
    private void doWork() {
        for (Job job; (job = pop(completeJobs)) != null; ) {
            job.fn.notify(job.readErr, job.writeErr); // run_complete_job
            job.completer = null;
        }
        for (Job job; (job = pop(ioJobs)) != null; ) {
            runIoJob(job);
        }
    }

    /** {@code run_io_job}: the read first, then the write. */
    private void runIoJob(Job job) {
        boolean read = !job.readDone;
        Region r = read ? job.from : job.to;
        Bio bio = bios.alloc(read ? BioOp.READ : BioOp.WRITE, 0, r.device(), r.sector(), r.count() * Bio.SECTOR_SIZE,
                b -> completeIo(job, b), "kcopyd " + (read ? "read" : "write"), Gfp.NOIO);
        bio.setData(job.buffer, 0);
        job.completer = bio;
        BlockLayer.submitBioNoacct(bio);
    }

    /** {@code complete_io}: interrupt context. */
    private void completeIo(Job job, Bio bio) {
        boolean failed = bio.status() != BlkStatus.OK;
        bios.free(bio);
        if (!job.readDone) {
            job.readDone = true;
            job.readErr = failed;
            push(job.readErr ? completeJobs : ioJobs, job);
        } else {
            job.writeErr = failed;
            push(completeJobs, job);
        }
        wake();
    }
}
