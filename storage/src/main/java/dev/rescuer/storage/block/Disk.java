package dev.rescuer.storage.block;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A disk: a {@link BlockDevice} that completes every bio after a fixed latency, with a bounded number
 * of requests in flight (a blk-mq tag set of {@code queueDepth} tags), and that stores what is written
 * to it, one long per sector.
 *
 * <p><b>Submission</b> ({@code blk_mq_submit_bio} → {@code blk_mq_get_tag}): the submitter takes a
 * tag, sleeping on the tag wait queue while all are in use (as {@code blk_mq_get_tag} does with
 * {@code io_schedule}), then arms the request's completion timer. <b>Completion</b> runs in the timer
 * context, which is atomic like the kernel's hard interrupt and {@code blk_mq_complete_request}: it
 * moves the data (a write's into the disk, a read's out of it), frees the tag, wakes one tag waiter
 * and calls {@link Bio#endio}.
 *
 * <p>Left out on purpose: the request queue's elevator, merging and plugging, partial completion,
 * and errors other than a read past what was ever written (which reads zeros, like a fresh disk).
 *
 * <p><b>Memory ordering.</b> {@link #inFlight} is the tag count; the CAS that takes a tag pairs with
 * the decrement in the completion, and the wait queue's guard orders the waiter's condition check
 * against {@link WaitQueue#wakeUp}. The content map is a concurrent map written only by completions.
 */
public final class Disk implements BlockDevice {

    private final Platform platform;
    private final String name;
    private final long capacitySectors;
    private final Duration latency;
    private final int queueDepth;
    /** Tags in use; at most {@link #queueDepth}. Lock-free (CAS to take, decrement to free). */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Submitters waiting for a tag ({@code sbitmap_queue} wait). */
    private final WaitQueue tagWait;
    /** Sector → content; sectors never written read as 0. Written only by completions. */
    private final ConcurrentHashMap<Long, Long> content = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    /** What a bio with a tag records as its completer ({@link Bio#handTo}): the I/O is in flight. */
    private final String inFlightNote;

    /**
     * A disk of {@code capacitySectors} 512-byte sectors.
     *
     * @throws IllegalArgumentException for a non-positive size or depth, or a negative latency
     */
    public Disk(Platform platform, String name, long capacitySectors, Duration latency, int queueDepth) {
        this.platform = Objects.requireNonNull(platform, "platform");
        this.name = Objects.requireNonNull(name, "name");
        if (capacitySectors <= 0) {
            throw new IllegalArgumentException("disk " + name + ": size must be positive, got " + capacitySectors + " sectors");
        }
        if (queueDepth < 1) {
            throw new IllegalArgumentException("disk " + name + ": queue depth must be >= 1, got " + queueDepth);
        }
        if (latency.isNegative()) {
            throw new IllegalArgumentException("disk " + name + ": latency must not be negative, got " + latency);
        }
        this.capacitySectors = capacitySectors;
        this.latency = latency;
        this.queueDepth = queueDepth;
        this.tagWait = new WaitQueue(platform, name + "/tags", "blk_mq_tags");
        tagWait.setOwner(this);
        this.inFlightNote = "in flight on disk " + name + " (I/O: no task needed)";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String driver() {
        return "sd";
    }

    @Override
    public long capacitySectors() {
        return capacitySectors;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    /** The number of request tags ({@code nr_requests}). */
    public int queueDepth() {
        return queueDepth;
    }

    /** Requests in flight now (tags in use). */
    public int inFlight() {
        return inFlight.get();
    }

    /** The content of {@code sector}: what the last completed write stored there, or 0. */
    public long contentAt(long sector) {
        return content.getOrDefault(sector, 0L);
    }

    /**
     * Takes a request tag (sleeping until one is free) and starts the request; it completes after the
     * disk's latency, in the timer context.
     */
    @Override
    public void submitBio(Bio bio) {
        getTag();
        bio.handTo(inFlightNote);
        PlatformTimer irq = platform.newTimer(name + " irq#" + requests.incrementAndGet(), () -> complete(bio));
        irq.arm(latency);
    }

    private void getTag() {
        while (true) {
            int n = inFlight.get();
            if (n < queueDepth) {
                if (inFlight.compareAndSet(n, n + 1)) {
                    return;
                }
            } else {
                tagWait.waitEventExclusive(() -> inFlight.get() < queueDepth);
            }
        }
    }

    /** {@code blk_mq_end_request}: runs in the (atomic) timer context. */
    private void complete(Bio bio) {
        long[] data = bio.data();
        if (data != null) {
            int off = bio.dataOffset();
            for (int i = 0; i < bio.sectors(); i++) {
                long sector = bio.sector() + i;
                if (bio.op() == BioOp.WRITE) {
                    content.put(sector, data[off + i]);
                } else if (bio.op() == BioOp.READ) {
                    data[off + i] = content.getOrDefault(sector, 0L);
                }
            }
        }
        inFlight.decrementAndGet();
        tagWait.wakeUp();
        bio.endio();
    }

    @Override
    public String toString() {
        return "disk " + name;
    }
}
