package dev.rescuer.storage.md;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.kernfs.KernfsNode;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An md array ({@code struct mddev}) with the raid1 personality, as a block device.
 *
 * <p><b>Writes and the superblock.</b> {@link #mdWriteStart} is the kernel's {@code md_write_start}:
 * the first write to a clean array ({@code in_sync} 1 → 0, under {@code mddev->lock}) sets
 * {@code MD_SB_CHANGE_CLEAN} and {@code MD_SB_CHANGE_PENDING}, wakes the md thread and calls
 * {@code sysfs_notify_dirent_safe(mddev->sysfs_state)}; every write then sleeps on {@code sb_wait}
 * until {@code MD_SB_CHANGE_PENDING} is clear. Who clears it depends on the metadata:
 * <ul>
 *   <li><b>external</b> (IMSM): only user space, by writing {@code active} to {@code array_state}
 *       ({@link #arrayStateStore}); mdmon does it after writing its metadata.
 *   <li><b>in-kernel</b> (Mariusz Tkaczyk's proposal for IMSM; what native metadata does): the md
 *       thread's {@code md_check_recovery} → {@code md_update_sb} writes the superblock to every
 *       member and clears the flag.
 * </ul>
 *
 * <p><b>Flushes</b> ({@code md_flush_request}, as in the 6.6 kernel of the report; 6.12 replaced the
 * flush work with a plain preflush to each member): one flush at a time per array ({@code flush_bio});
 * {@code submit_flushes} runs on {@code md_wq}, sends an empty {@code REQ_PREFLUSH} bio to each member,
 * and when the last one ends (interrupt context) queues {@code md_submit_flush_data} on {@code md_wq},
 * which sends the data part through {@code md_handle_request}, so {@code md_write_start} sleeps on the
 * {@code md_wq} worker or rescuer that runs it. Each hand-off is recorded on the flush bio for the
 * wait-for report ({@link Bio#deferEndio}, {@link Bio#handTo}): to {@code submit_flushes}, to the
 * members' preflushes, to {@code md_submit_flush_data}, to the data part; so a task waiting for the
 * bio is shown waiting for whoever must run the item on {@code md_wq} (its worker, its rescuer).
 *
 * <p>Left out: write-intent bitmaps, {@code safemode} and the return to clean ({@code in_sync} 0 → 1),
 * suspend, recovery, the flush coalescing by start time ({@code prev_flush_start}: a waiting flush
 * here always gets its own round), {@code writes_pending} as a percpu ref, {@code MD_SB_CHANGE_DEVS}.
 *
 * <p><b>Locking.</b> {@link #lock} ({@code mddev->lock}) guards {@code in_sync} and {@code flush_bio};
 * {@code sb_flags} are atomic bits ({@code set_bit}/{@code clear_bit}); waiters on {@link #sbWait}
 * re-check their condition after every wake-up.
 *
 * <p><b>Memory ordering.</b> A clearer clears {@code MD_SB_CHANGE_PENDING} (a volatile write through
 * the atomic) and then wakes {@code sb_wait}; {@code md_write_start}'s condition reads it, and the
 * platform never loses a wake that follows the write. {@code flushes_pending} is decremented by each
 * member's end-io; the one that reaches zero queues the next step.
 */
public final class Mddev implements BlockDevice {

    /** The array went from clean to dirty; the superblock must say so. */
    public static final int MD_SB_CHANGE_CLEAN = 1 << 1;
    /** The superblock change is not yet on disk; writes wait for this to clear. */
    public static final int MD_SB_CHANGE_PENDING = 1 << 2;

    private final Md md;
    private final String name;
    private final Platform platform;
    private final List<BlockDevice> mirrors;
    private final boolean external;
    private final long capacity;
    private final SpinLock lock;
    private final WaitQueue sbWait;
    private final AtomicInteger sbFlags = new AtomicInteger();
    private final KernfsNode sysfsState;
    private final Raid1 raid1;
    private final MdThread thread;
    private final AtomicInteger flushesPending = new AtomicInteger();
    private final AtomicInteger superblockWrites = new AtomicInteger();
    private boolean inSync = true;  // Guarded by lock
    private Bio flushBio;           // Guarded by lock
    private final Work submitFlushes;
    private final Work submitFlushData;

    /** Sectors at the end of every member that hold its superblock (4 KiB). */
    public static final long METADATA_SECTORS = 8;

    /** The refusal of a member with no room for data after its superblock. */
    public static String tooSmall(String array, String member, long sectors) {
        return "md array " + array + ": member " + member + " has " + sectors + " sectors; a member needs more than "
                + METADATA_SECTORS + " (its last 4 KiB hold the superblock)";
    }

    Mddev(Md md, String name, List<? extends BlockDevice> mirrors, boolean external) {
        if (mirrors.isEmpty()) {
            throw new IllegalArgumentException("md array " + name + ": raid1 needs at least one mirror");
        }
        // raid1's size is its smallest member's (md's dev_sectors, the minimum of rdev->sectors): a
        // larger member's excess is unused. Each member's superblock is at its own end.
        long size = Long.MAX_VALUE;
        for (BlockDevice m : mirrors) {
            if (m.capacitySectors() <= METADATA_SECTORS) {
                throw new IllegalArgumentException(tooSmall(name, m.name(), m.capacitySectors()));
            }
            size = Math.min(size, m.capacitySectors());
        }
        this.md = md;
        this.name = name;
        this.platform = mirrors.get(0).platform();
        this.mirrors = List.copyOf(mirrors);
        this.external = external;
        this.capacity = size - METADATA_SECTORS; // the last 4 KiB of each member hold the metadata
        this.lock = new SpinLock(platform, name + "/lock", "&mddev->lock");
        this.sbWait = new WaitQueue(platform, name + "/sb_wait", "&mddev->sb_wait");
        this.sysfsState = md.kernfs().createFile(name + "/md/array_state");
        this.raid1 = new Raid1(this);
        this.submitFlushes = new Work(name + " submit_flushes", this::submitFlushes);
        this.submitFlushData = new Work(name + " md_submit_flush_data", this::mdSubmitFlushData);
        this.thread = new MdThread(this);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String driver() {
        return "md";
    }

    @Override
    public long capacitySectors() {
        return capacity;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    /** The mirrors, in slot order. */
    public List<BlockDevice> mirrors() {
        return mirrors;
    }

    /** Whether user space manages the metadata. */
    public boolean external() {
        return external;
    }

    /** The wait-graph point of this array's {@code sb_wait}: writes wait there for the superblock. */
    public static String sbWaitPoint(String array) {
        return "sb_wait/" + array;
    }

    /**
     * Declares who waits on whom; the array and its members must be declared. A write waits on
     * {@code sb_wait} until the superblock says dirty ({@code md_write_start}); a flush runs on
     * {@code md_wq} ({@code submit_flushes}, {@code md_submit_flush_data}), whose items send preflushes
     * to the members and then the data, which waits on {@code sb_wait} in turn. With in-kernel
     * metadata the md thread ({@code mdX_raid1}, a point) clears it by writing the superblock to the
     * members; with external metadata only user space does ({@link Mdmon#declareWaits}). The array's
     * I/O goes to its members.
     */
    public void declareWaits(WaitGraph g) {
        String sb = sbWaitPoint(name);
        g.queue(md.mdWq());
        g.node(sb, WaitGraph.NodeKind.POINT);
        g.waitsOn(name, sb, "md_write_start: a write sleeps on sb_wait until MD_SB_CHANGE_PENDING is clear");
        g.waitsOn(name, md.mdWq().name(), "md_flush_request -> submit_flushes on md_wq");
        g.waitsOn(md.mdWq().name(), sb, "md_submit_flush_data -> md_handle_request -> md_write_start");
        String thread = name + "_raid1";
        if (!external) {
            g.node(thread, WaitGraph.NodeKind.POINT);
            g.waitsOn(sb, thread, "md_check_recovery -> md_update_sb on the md thread clears MD_SB_CHANGE_PENDING");
        }
        for (BlockDevice m : mirrors) {
            g.waitsOn(name, m.name(), "raid1: the request's clones go to " + m.name());
            g.waitsOn(md.mdWq().name(), m.name(), "submit_flushes: a REQ_PREFLUSH bio to " + m.name());
            if (!external) {
                g.waitsOn(thread, m.name(), "md_update_sb writes the superblock to " + m.name() + " and waits");
            }
        }
    }

    /**
     * {@code mddev->sb_wait}. With external metadata its owner, once an {@link Mdmon} manages the
     * array, is the pending superblock change naming who must clear it ({@link PendingSbChange}).
     */
    public WaitQueue sbWait() {
        return sbWait;
    }

    /** The {@code array_state} attribute ({@code mddev->sysfs_state}). */
    public KernfsNode sysfsState() {
        return sysfsState;
    }

    /** The md thread ({@code mddev->thread}, {@code mdX_raid1}). */
    public MdThread thread() {
        return thread;
    }

    /** The item that runs {@code md_submit_flush_data} for this array on {@code md_wq}. */
    public Work flushWork() {
        return submitFlushData;
    }

    /** Whether {@code bit} of {@code sb_flags} is set. */
    public boolean testSbFlag(int bit) {
        return (sbFlags.get() & bit) != 0;
    }

    /** Whether the array is clean ({@code in_sync}). */
    public boolean inSync() {
        lock.lock();
        try {
            return inSync;
        } finally {
            lock.unlock();
        }
    }

    /** How many times the kernel wrote the superblock ({@code md_update_sb}); 0 with external metadata. */
    public int superblockWrites() {
        return superblockWrites.get();
    }

    /**
     * {@code array_state} as user space reads it: {@code write-pending} while a write waits for the
     * metadata, {@code active} when dirty, {@code clean} when in sync.
     */
    public String arrayStateShow() {
        if (testSbFlag(MD_SB_CHANGE_PENDING)) {
            return "write-pending";
        }
        return inSync() ? "clean" : "active";
    }

    /**
     * A write to {@code array_state} ({@code array_state_store}). Only {@code active} is modelled: it
     * clears {@code MD_SB_CHANGE_PENDING} and wakes {@code sb_wait}, which is how mdmon tells the
     * kernel its metadata records the array as dirty.
     *
     * @throws IllegalArgumentException for any other value (the kernel's {@code -EINVAL})
     */
    public void arrayStateStore(String value) {
        if (!"active".equals(value)) {
            throw new IllegalArgumentException(name + "/md/array_state: \"" + value + "\" is not modelled (only \"active\")");
        }
        clearSbFlag(MD_SB_CHANGE_PENDING | MD_SB_CHANGE_CLEAN);
        sbWait.wakeUpAll();
    }

    @Override
    public void submitBio(Bio bio) {
        if (bio.hasFlag(Bio.REQ_PREFLUSH) && mdFlushRequest(bio)) {
            return;
        }
        mdHandleRequest(bio);
    }

    /** {@code md_handle_request}: passes the bio to the personality. */
    void mdHandleRequest(Bio bio) {
        raid1.makeRequest(bio);
    }

    /**
     * {@code md_write_start}: marks the array dirty on the first write and waits until the superblock
     * says so. Returns at once for a read.
     */
    public void mdWriteStart(Bio bio) {
        if (bio.op() != BioOp.WRITE) {
            return;
        }
        boolean didChange = false;
        lock.lock();
        try {
            if (inSync) {
                inSync = false;
                setSbFlag(MD_SB_CHANGE_CLEAN | MD_SB_CHANGE_PENDING);
                didChange = true;
            }
        } finally {
            lock.unlock();
        }
        if (didChange) {
            thread.mdWakeupThread();
            md.kernfs().kernfsNotify(sysfsState); // sysfs_notify_dirent_safe
        }
        sbWait.waitEvent(() -> !testSbFlag(MD_SB_CHANGE_PENDING));
    }

    /**
     * {@code md_flush_request}: takes the array's flush slot (waiting on {@code sb_wait} for the
     * previous flush) and queues {@code submit_flushes} on {@code md_wq}. Returns {@code true}: the
     * bio is now owned by the flush machinery.
     */
    boolean mdFlushRequest(Bio bio) {
        while (true) {
            lock.lock();
            try {
                if (flushBio == null) {
                    flushBio = bio;
                    break;
                }
            } finally {
                lock.unlock();
            }
            sbWait.waitEvent(this::flushSlotFree);
        }
        bio.deferEndio(md.mdWq(), submitFlushes); // INIT_WORK(&mddev->flush_work, submit_flushes); queue_work(md_wq, ...)
        return true;
    }

    private boolean flushSlotFree() {
        lock.lock();
        try {
            return flushBio == null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code submit_flushes}: an empty preflush to every member; the last to end queues the data part.
     * While the members' preflushes are in flight the array's flush bio is recorded as waiting for
     * the last one sent (every one of them must end; for reports, the last stands for all).
     */
    private void submitFlushes() {
        Bio bio;
        lock.lock();
        try {
            bio = flushBio;
        } finally {
            lock.unlock();
        }
        flushesPending.set(1);
        for (BlockDevice rdev : mirrors) {
            flushesPending.incrementAndGet();
            Bio preflush = new Bio(BioOp.FLUSH, Bio.REQ_PREFLUSH, rdev, 0, 0, null, b -> mdEndFlush(bio), name + " md flush");
            bio.handTo(preflush);
            BlockLayer.submitBioNoacct(preflush);
        }
        mdEndFlush(bio);
    }

    /** {@code md_end_flush}: any context; the last member to end hands {@code bio} on to {@code md_submit_flush_data}. */
    private void mdEndFlush(Bio bio) {
        if (flushesPending.decrementAndGet() == 0) {
            bio.deferEndio(md.mdWq(), submitFlushData);
        }
    }

    /** {@code md_submit_flush_data}: frees the flush slot, then sends the data part without {@code REQ_PREFLUSH}. */
    private void mdSubmitFlushData() {
        Bio bio;
        lock.lock();
        try {
            bio = flushBio;
            flushBio = null;
        } finally {
            lock.unlock();
        }
        sbWait.wakeUpAll();
        if (bio.op() == BioOp.FLUSH) {
            bio.endio(BlkStatus.OK);
        } else {
            Bio data = Raid1.withoutPreflush(bio);
            bio.handTo(data); // ends when its data part does
            BlockLayer.submitBioNoacct(data);
        }
    }

    /**
     * {@code md_check_recovery}'s superblock part, on the md thread: with in-kernel metadata, writes
     * the superblock ({@code md_update_sb}) when a change is pending. With external metadata the
     * kernel leaves it to user space.
     */
    void mdCheckRecovery() {
        if (external || sbFlags.get() == 0) {
            return;
        }
        mdUpdateSb();
    }

    /** {@code md_update_sb}: writes the superblock to every member (FUA), then clears the pending bits and wakes {@code sb_wait}. */
    private void mdUpdateSb() {
        int flags = sbFlags.get();
        for (BlockDevice rdev : mirrors) {
            writeMetadata(rdev, name + " md_update_sb");
        }
        superblockWrites.incrementAndGet();
        clearSbFlag(flags);
        sbWait.wakeUpAll();
    }

    /** Writes one metadata block at the end of {@code rdev} and waits for it. */
    static void writeMetadata(BlockDevice rdev, String origin) {
        Bio bio = new Bio(BioOp.WRITE, Bio.REQ_SYNC | Bio.REQ_META | Bio.REQ_FUA, rdev, rdev.capacitySectors() - 8,
                Bio.PAGE_SIZE, null, null, origin);
        BlockLayer.submitBioWait(bio);
    }

    private void setSbFlag(int bits) {
        sbFlags.getAndUpdate(f -> f | bits);
    }

    private void clearSbFlag(int bits) {
        sbFlags.getAndUpdate(f -> f & ~bits);
    }

    @Override
    public String toString() {
        return name;
    }
}
