package dev.rescuer.storage.block;

import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One block I/O ({@code struct bio}): an operation on a run of sectors of a device, the pages that
 * carry its data, and the callback that runs when it ends.
 *
 * <p><b>Life.</b> A bio is built, submitted once through {@link BlockLayer#submitBioNoacct}, possibly
 * remapped by the devices it passes through ({@link #setDevice}, {@link #setSector}), and ended
 * exactly once with {@link #endio}. Ending it twice throws: in the kernel it corrupts memory. A bio
 * may be chained to a parent ({@link #chain}): the parent's end-io then runs only after its own
 * {@code endio} and those of all its chained children, with the first error among them.
 *
 * <p><b>Who will end it.</b> For the wait-for report, a bio records who completes it now
 * ({@link #completer()}, {@link HandedOnEvent}): the task whose {@code bio_list} holds it (or the
 * driver thread whose list does: loop's kthread), the device
 * it was submitted to ({@link BlockLayer#submitBioNoacct}; a disk says the I/O is in flight), the
 * clone or the structure it waits for (dm core's clone, a snapshot's pending exception), or the work
 * item its end-io deferred it to ({@link #deferEndio}). The block layer and the targets record it
 * where the hand-off happens; nothing reads it but reports.
 *
 * <p><b>What its owners did, for the validator.</b> A handler that serves the bio outside its
 * end-io (loop's worker) calls {@link #takeOver} when it takes the bio off its list; the window
 * ends at its next {@link #handTo}, {@link #deferEndio} or {@link #endio} of the bio. The end-io
 * callback runs in a window of its own, and a chained bio's end hands what it carried to its
 * parent. With a validator installed ({@link LockEvents#takeOver}, {@link LockEvents#handOn}), what
 * a handler acquired or waited on in its window becomes part of the context of the signals the
 * bio's end-io makes, wherever it runs (the disk's interrupt); with none, each site costs one
 * volatile read.
 *
 * <p><b>Threading.</b> The fields a device changes while it owns the bio (device, sector, status,
 * private data) are plain: ownership passes with the bio through lists and queues whose locks or
 * hand-offs order the accesses. The end-io count is atomic because children end on any task. The
 * completer is volatile: written by whoever holds the bio, read racily by reports.
 */
public final class Bio implements HandedOnEvent {

    /** Bytes per sector ({@code SECTOR_SIZE}). */
    public static final int SECTOR_SIZE = 512;
    /** Bytes per page in the model ({@code PAGE_SIZE}). */
    public static final int PAGE_SIZE = 4096;

    /** Flush the device's cache before this bio ({@code REQ_PREFLUSH}). */
    public static final int REQ_PREFLUSH = 1;
    /** The data is on stable storage when the bio ends ({@code REQ_FUA}). */
    public static final int REQ_FUA = 1 << 1;
    /** Someone waits for this bio ({@code REQ_SYNC}). */
    public static final int REQ_SYNC = 1 << 2;
    /** Filesystem metadata ({@code REQ_META}). */
    public static final int REQ_META = 1 << 3;

    private final BioOp op;
    private final int flags;
    private final String origin;
    private BlockDevice device;
    private long sector;
    private final int sizeBytes;
    private final Pages pages;
    private Consumer<Bio> endIo;
    private Object privateData;
    private BlkStatus status = BlkStatus.OK;

    /** Children still to end, plus one for the bio's own {@code endio} ({@code __bi_remaining}). */
    private final AtomicInteger remaining = new AtomicInteger(1);
    /** Set once the bio's end-io has run or it was handed to its parent. */
    private volatile boolean ended;
    private Bio parent;

    /** Who completes the bio now (see the class comment); volatile, for reports only. */
    private volatile Object completer;

    /** The next bio on a {@link BioList} ({@code bi_next}); owned by the list. */
    Bio next;

    /** The content the bio carries, one long per sector, from {@link #dataOffset}; {@code null} for none. */
    private long[] data;
    private int dataOffset;
    /** The bio set the bio came from ({@code bi_pool}), or {@code null}; set once by {@link BioSet}. */
    private BioSet pool;
    /** The pool element accounting for the bio's memory, given back by {@link BioSet#free}. */
    Object poolElement;

    /**
     * A bio of {@code sizeBytes} bytes at {@code sector} of {@code device}.
     *
     * @param origin who built it, for reports ({@code "jbd2 commit"}, {@code "kcopyd read"})
     * @param pages the pages carrying the data, or {@code null} when the data's pages are accounted
     *     elsewhere (a page cache's pages) or there are none (a flush)
     * @param endIo runs once when the bio ends ({@code bi_end_io}); may be {@code null}
     * @throws IllegalArgumentException for a negative sector, a size that is not a whole number of
     *     sectors, data on a flush, or a read or write with no data
     */
    public Bio(BioOp op, int flags, BlockDevice device, long sector, int sizeBytes, Pages pages,
               Consumer<Bio> endIo, String origin) {
        this.op = Objects.requireNonNull(op, "op");
        this.device = Objects.requireNonNull(device, "device");
        this.origin = Objects.requireNonNull(origin, "origin");
        if (sector < 0) {
            throw new IllegalArgumentException("bio sector " + sector + " is negative");
        }
        if (sizeBytes < 0 || sizeBytes % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("bio size " + sizeBytes + " is not a whole number of " + SECTOR_SIZE + "-byte sectors");
        }
        if (op == BioOp.FLUSH ? sizeBytes != 0 : sizeBytes == 0) {
            throw new IllegalArgumentException(op == BioOp.FLUSH ? "a flush bio carries no data" : "a " + op + " bio needs data");
        }
        this.flags = flags;
        this.sector = sector;
        this.sizeBytes = sizeBytes;
        this.pages = pages;
        this.endIo = endIo;
    }

    /** The operation. */
    public BioOp op() {
        return op;
    }

    /** Whether {@code flag} ({@link #REQ_PREFLUSH}, ...) is set. */
    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** The request flags. */
    public int flags() {
        return flags;
    }

    /** Who built the bio, for reports. */
    public String origin() {
        return origin;
    }

    /** The device the bio is addressed to now ({@code bi_bdev}). */
    public BlockDevice device() {
        return device;
    }

    /** Readdresses the bio to another device, as a remapping target does ({@code bio_set_dev}). */
    public void setDevice(BlockDevice device) {
        this.device = Objects.requireNonNull(device, "device");
    }

    /** The first sector ({@code bi_iter.bi_sector}). */
    public long sector() {
        return sector;
    }

    /** Moves the bio to another first sector. */
    public void setSector(long sector) {
        if (sector < 0) {
            throw new IllegalArgumentException("bio sector " + sector + " is negative");
        }
        this.sector = sector;
    }

    /** Size in bytes ({@code bi_iter.bi_size}). */
    public int sizeBytes() {
        return sizeBytes;
    }

    /** Size in sectors ({@code bio_sectors}). */
    public int sectors() {
        return sizeBytes / SECTOR_SIZE;
    }

    /** The sector just past the bio ({@code bio_end_sector}). */
    public long endSector() {
        return sector + sectors();
    }

    /** The pages carrying the data, or {@code null}. */
    public Pages pages() {
        return pages;
    }

    /** The owner's data ({@code bi_private}). */
    public Object privateData() {
        return privateData;
    }

    /** Sets the owner's data ({@code bi_private}). */
    public void setPrivateData(Object data) {
        this.privateData = data;
    }

    /** The end-io callback ({@code bi_end_io}), or {@code null}; a driver that hooks it saves it first. */
    public Consumer<Bio> endIo() {
        return endIo;
    }

    /** Replaces the end-io callback, as a stacking driver that hooks completion does. */
    public void setEndIo(Consumer<Bio> endIo) {
        this.endIo = endIo;
    }

    /** The status: {@link BlkStatus#OK} until someone records an error. */
    public BlkStatus status() {
        return status;
    }

    /** Records the status the bio will end with ({@code bio->bi_status = ...}). */
    public void setStatus(BlkStatus status) {
        this.status = Objects.requireNonNull(status, "status");
    }

    /**
     * Attaches the content the bio carries: sector {@code i} of the bio is {@code buffer[offset + i]}.
     * A write's disk stores it; a read's disk fills it. Clones of a bio share the buffer at an offset,
     * as the kernel's clones share the bio_vec pages.
     *
     * @throws IllegalArgumentException if the buffer is shorter than the bio from {@code offset}
     */
    public void setData(long[] buffer, int offset) {
        if (buffer != null && (offset < 0 || buffer.length - offset < sectors())) {
            throw new IllegalArgumentException("data buffer of " + buffer.length + " sectors at offset " + offset
                    + " is shorter than " + this);
        }
        this.data = buffer;
        this.dataOffset = offset;
    }

    /** The content buffer (see {@link #setData}), or {@code null}. */
    public long[] data() {
        return data;
    }

    /** Where the bio's first sector sits in {@link #data()}. */
    public int dataOffset() {
        return dataOffset;
    }

    /** The bio set the bio was allocated from ({@code bi_pool}), or {@code null} for a bio built directly. */
    public BioSet pool() {
        return pool;
    }

    void setPool(BioSet pool, Object element) {
        if (this.pool != null) {
            throw new IllegalStateException(this + " already belongs to bio set " + this.pool.name());
        }
        this.pool = pool;
        this.poolElement = element;
    }

    /**
     * Makes an ended bio live again, to be ended once more: for a driver that hooked the bio's end-io
     * and must finish work before the saved end-io runs (dm-verity's {@code verity_end_io} verifies,
     * then restores {@code bi_end_io} and calls {@code bio_endio} again). Call it from the hooked
     * end-io, before handing the bio on.
     *
     * @throws IllegalStateException if the bio has not ended or is chained to a parent
     */
    public void reopen() {
        if (!ended || parent != null) {
            throw new IllegalStateException("reopen of " + this + (parent != null ? ", which is chained" : ", which has not ended"));
        }
        remaining.set(1);
        ended = false;
    }

    /** Whether the bio has ended. */
    public boolean hasEnded() {
        return ended;
    }

    /**
     * Makes {@code parent} end only after this bio has ended too ({@code bio_chain}): this bio's
     * end-io is replaced by the hand-off to the parent, and its error, if any, becomes the parent's.
     *
     * @throws IllegalStateException if this bio already has an end-io callback or a parent
     */
    public void chain(Bio parent) {
        if (endIo != null || this.parent != null) {
            throw new IllegalStateException(this + " already has an end-io; bio_chain would lose it");
        }
        this.parent = Objects.requireNonNull(parent, "parent");
        parent.remaining.incrementAndGet();
    }

    /**
     * Ends the bio with {@code status} ({@code bio_endio} after setting {@code bi_status}).
     *
     * @see #endio()
     */
    public void endio(BlkStatus status) {
        if (status != BlkStatus.OK) {
            this.status = status;
        }
        endio();
    }

    /**
     * Ends the bio ({@code bio_endio}): when it and its chained children have all ended, runs its
     * end-io, or hands its status to its parent and ends that. Never sleeps; runs in the caller's
     * context, which may be atomic.
     *
     * @throws IllegalStateException if the bio has already ended
     */
    public void endio() {
        LockEvents ev = device.platform().lockEvents();
        if (ev != null) {
            ev.handOn(device.platform().currentTask(), this, null); // an owner that ends it is done with it
        }
        Bio bio = this;
        while (true) {
            if (bio.ended) {
                throw new IllegalStateException("bio_endio of " + bio + ", which has already ended");
            }
            if (bio.remaining.decrementAndGet() > 0) {
                return;
            }
            bio.ended = true;
            Bio up = bio.parent;
            if (up == null) {
                if (bio.endIo != null) {
                    bio.runEndIo(ev);
                }
                return;
            }
            if (ev != null) {
                ev.handOn(device.platform().currentTask(), bio, up); // bio_chain: the parent's end waited for this one
            }
            if (up.status == BlkStatus.OK && bio.status != BlkStatus.OK) {
                up.status = bio.status;
            }
            bio = up;
        }
    }

    /** Runs the end-io callback inside a window of the current task on this bio (see the class comment). */
    private void runEndIo(LockEvents ev) {
        if (ev == null) {
            endIo.accept(this);
            return;
        }
        Task self = device.platform().currentTask();
        ev.takeOver(self, this);
        try {
            endIo.accept(this);
        } finally {
            ev.handOn(self, this, null);
        }
    }

    /**
     * The current task starts to act for the bio: a handler took it off the list it was handed over
     * on ({@code loop_handle_cmd}). Until the task's next {@link #handTo}, {@link #deferEndio} or
     * {@link #endio} of the bio (or the end of its work item), what it acquires and waits on is what
     * the bio's completion waits for; a validator charges it to the signals the bio's end-io makes
     * ({@link LockEvents#takeOver}). Never changes what happens to the bio.
     */
    public void takeOver() {
        Platform platform = device.platform();
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.takeOver(platform.currentTask(), this);
        }
    }

    /**
     * Records who completes the bio from now on, for reports (see the class comment): a {@link Task},
     * a {@link BlockDevice}, a {@link Work}, another {@link HandedOnEvent}, or any object whose
     * {@code toString} says where the bio is (a disk's "in flight on disk sda"). Ends the current
     * task's {@link #takeOver} window on the bio, if any. Never changes what happens to the bio.
     */
    public void handTo(Object completer) {
        this.completer = completer;
        reportHandOff();
    }

    /** Tells the validator, if any, that the bio has a new completer (set before: it follows it). */
    private void reportHandOff() {
        Platform platform = device.platform();
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.handOn(platform.currentTask(), this, null);
        }
    }

    /**
     * Defers the rest of the bio's completion to {@code work} on {@code wq} and records the hand-off
     * ({@code queue_work} from an end-io: {@code verity_end_io}, {@code crypt_endio},
     * {@code kcryptd_queue_crypt}): the generic hook every target that finishes a bio in a work item
     * goes through, so that a report can follow a wait for the bio to the item and from there to the
     * pool's workers. May be called from atomic context.
     *
     * @return what {@link WorkQueue#queue} returned: false if the item was already pending
     */
    public boolean deferEndio(WorkQueue wq, Work work) {
        this.completer = work; // before the item can see the bio
        boolean queued = wq.queue(work);
        reportHandOff(); // after the queueing, so that the item's queue is known (Work.workqueue)
        return queued;
    }

    /** Who completes the bio now, or {@code null} once it has ended (or before it was submitted). */
    @Override
    public Object completer() {
        return ended ? null : completer;
    }

    /** The bio and where it stands, for the wait-for report. */
    @Override
    public String describe() {
        Object c = completer();
        String where;
        if (ended) {
            where = ", ended";
        } else if (c == null) {
            where = ", not submitted";
        } else if (c instanceof Work) {
            where = ", end-io deferred to";
        } else if (c instanceof Task) {
            where = ", queued for"; // on the task's bio_list, or a driver's list its thread serves (loop)
        } else if (c instanceof HandedOnEvent) {
            where = ", waits for";
        } else if (c instanceof BlockDevice) {
            where = ", held by " + c;
        } else {
            where = ", " + c;
        }
        return this + where;
    }

    @Override
    public String toString() {
        return "bio(" + op + " " + device.name() + " " + sector + "+" + sectors() + ", " + origin + ")";
    }
}
