package dev.rescuer.storage.swap;

import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A swap area ({@code swapon}): a run of page-sized slots on a block device, the whole device or a
 * swap file's extent. As a {@link Shrinker} it is the anonymous half of {@code shrink_folio_list}: it
 * takes the oldest resident page of the registered {@link AnonMemory}s, writes it to a free slot
 * ({@code add_to_swap}, then {@code pageout} → {@code swap_writepage}) and frees it. As in the
 * kernel, an anonymous page is swapped only when the reclaiming allocation may start I/O:
 * {@code if (!(sc->gfp_mask & __GFP_IO)) goto keep_locked} before {@code add_to_swap}; an area with
 * {@code SWP_FS_OPS} (a swap file whose filesystem does the I/O itself, {@code ->swap_rw}, as NFS
 * does) also needs {@code __GFP_FS} ({@code may_enter_fs}). A swap file on a filesystem that maps its
 * extents at {@code swapon} ({@code iomap_swapfile_activate}: XFS, ext4) is written directly, like a
 * partition. {@link AnonMemory#swapIn} reads a slot back ({@code swap_read_folio}).
 *
 * <p>A scan isolates up to {@code nr_to_scan} pages, submits all their writes, waits for them and
 * then frees the pages that were written. The kernel does not wait in {@code pageout}: it frees a
 * folio once its writeback has ended, and a reclaimer that needs the memory meanwhile waits for the
 * same writes ({@code reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK)}); one wait per batch stands for
 * that. Left out on purpose: the swap cache, clusters, readahead and priorities.
 *
 * <p><b>Locking.</b> {@code lock} ({@code si->lock}) guards {@code slotMap}; it is a spin lock and
 * nothing sleeps under it. <b>Memory ordering.</b> {@code used}, {@code swappedOut} and
 * {@code swappedIn} are atomics, each read on its own; a batch's writes count down an atomic in their
 * end-io and the last completes the batch's {@code Completion}, whose wait orders the bios' status
 * before the reclaimer reads it ({@code used} is changed under {@code lock}
 * and read without it); the areas' processes are a copy-on-write list.
 */
public final class SwapArea implements Shrinker {

    private static final int SLOT_SECTORS = Bio.PAGE_SIZE / Bio.SECTOR_SIZE;

    private final String name;
    private final BlockDevice device;
    private final long startSector;
    private final boolean fsOps;
    private final long slots;
    private final SpinLock lock;
    /** Slots in use. Guarded by lock. */
    private final BitSet slotMap = new BitSet();
    /** Slots in use, for lock-free readers. Changed under lock. */
    private final AtomicLong used = new AtomicLong();
    /** Pages written out, ever. Atomic. */
    private final AtomicLong swappedOut = new AtomicLong();
    /** Pages read back, ever. Atomic. */
    private final AtomicLong swappedIn = new AtomicLong();
    private final List<AnonMemory> processes = new CopyOnWriteArrayList<>();

    /**
     * A swap area on the whole of {@code device}; {@code fsOps} says its I/O goes through a
     * filesystem ({@code SWP_FS_OPS}), so that writing to it enters the filesystem.
     *
     * @throws IllegalArgumentException if the device holds no page
     */
    public SwapArea(BlockDevice device, boolean fsOps) {
        this(device.name(), device, 0, device.capacitySectors() / SLOT_SECTORS, fsOps);
    }

    /**
     * A swap area called {@code name} of {@code slots} pages on {@code device} from
     * {@code startSector} (a swap file's extent).
     *
     * @throws IllegalArgumentException if it holds no page or reaches past the device
     */
    public SwapArea(String name, BlockDevice device, long startSector, long slots, boolean fsOps) {
        if (slots < 1 || slots > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("swap area " + name + " on " + device.name() + ": " + slots
                    + " pages; it must hold at least one and at most " + Integer.MAX_VALUE);
        }
        if (startSector < 0 || startSector + slots * SLOT_SECTORS > device.capacitySectors()) {
            throw new IllegalArgumentException("swap area " + name + ": " + slots + " pages from sector " + startSector
                    + " reach past the end of " + device.name() + " (" + device.capacitySectors() + " sectors)");
        }
        this.name = name;
        this.device = device;
        this.startSector = startSector;
        this.slots = slots;
        this.fsOps = fsOps;
        this.lock = new SpinLock(device.platform(), "swap " + name + "/lock", "si->lock");
    }

    /**
     * Declares who waits on whom: page reclaim ({@link WaitGraph#VMSCAN}) waits on the swap device
     * ({@code shrink_folio_list} → {@code pageout} → {@code swap_writepage}; here the write is
     * waited for). The device must be declared.
     */
    public void declareWaits(WaitGraph g) {
        g.node(WaitGraph.VMSCAN, WaitGraph.NodeKind.RECLAIM);
        g.waitsOn(WaitGraph.VMSCAN, device.name(), "shrink_folio_list -> pageout -> swap_writepage to " + device.name());
    }

    /** Makes {@code mem}'s pages swappable here. */
    public void add(AnonMemory mem) {
        processes.add(mem);
    }

    /** The shrinker's name, {@code swap <area>}, as {@link dev.rescuer.core.mm.PageAllocator#reclaimed} reports it. */
    @Override
    public String name() {
        return "swap " + name;
    }

    /** Whether reclaim in context {@code sc} may swap to this area. */
    public boolean maySwap(ShrinkControl sc) {
        return sc.gfp().mayIo() && (!fsOps || sc.gfp().mayFs());
    }

    @Override
    public long count(ShrinkControl sc) {
        long n = 0;
        for (AnonMemory m : processes) {
            n += m.resident();
        }
        return Math.min(n, slots - used.get());
    }

    @Override
    public long scan(ShrinkControl sc) {
        if (!maySwap(sc)) {
            return 0; // keep_locked: no __GFP_IO (or no __GFP_FS for SWP_FS_OPS)
        }
        List<PageOut> batch = new ArrayList<>();
        outer:
        for (AnonMemory m : processes) {
            while (batch.size() < sc.nrToScan()) {
                long slot = allocSlot();
                if (slot < 0) {
                    break outer; // the area is full
                }
                Pages p = m.isolateOldest();
                if (p == null) {
                    freeSlot(slot);
                    break;
                }
                batch.add(new PageOut(m, p, slot, bio(BioOp.WRITE, slot, "swap_writepage " + m)));
            }
        }
        if (batch.isEmpty()) {
            return 0;
        }
        if (device.platform().currentTask().bioList() != null) {
            throw new IllegalStateException("swap-out to " + this + " from inside submit_bio: its writes would wait on the task's bio_list");
        }
        // pageout() for the whole batch: every write is submitted before any is waited for.
        Completion written = new Completion(device.platform(), "swap_writepage " + name, "swap_writepage");
        AtomicInteger inFlight = new AtomicInteger(batch.size());
        for (PageOut o : batch) {
            o.bio().setEndIo(b -> {
                if (inFlight.decrementAndGet() == 0) {
                    written.complete(); // end-io context; completing never sleeps
                }
            });
        }
        for (PageOut o : batch) {
            BlockLayer.submitBioNoacct(o.bio());
        }
        written.waitFor();
        long freed = 0;
        for (PageOut o : batch) {
            if (o.bio().status() == BlkStatus.OK) {
                o.page().free();
                o.mem().swappedOut(this, o.slot());
                swappedOut.incrementAndGet();
                freed++;
            } else {
                freeSlot(o.slot());
                o.mem().putBack(o.page());
            }
        }
        return freed;
    }

    /** One page being written out: its process, the page, its slot and the write. */
    private record PageOut(AnonMemory mem, Pages page, long slot, Bio bio) {
    }

    /** Reads slot {@code slot} back for {@code m} ({@code swap_read_folio}) and frees the slot on success. */
    BlkStatus swapIn(long slot, AnonMemory m) {
        BlkStatus st = BlockLayer.submitBioWait(bio(BioOp.READ, slot, "swap_read_folio " + m));
        if (st == BlkStatus.OK) {
            freeSlot(slot);
            swappedIn.incrementAndGet();
        }
        return st;
    }

    private Bio bio(BioOp op, long slot, String origin) {
        Bio bio = new Bio(op, 0, device, startSector + slot * SLOT_SECTORS, Bio.PAGE_SIZE, null, null, origin);
        bio.setData(new long[SLOT_SECTORS], 0);
        return bio;
    }

    /** A free slot, taken ({@code get_swap_pages}), or -1 if every slot is in use. */
    private long allocSlot() {
        lock.lock();
        try {
            int s = slotMap.nextClearBit(0);
            if (s >= slots) {
                return -1;
            }
            slotMap.set(s);
            used.incrementAndGet();
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Gives slot {@code slot} back ({@code swap_free}). */
    void freeSlot(long slot) {
        lock.lock();
        try {
            if (!slotMap.get((int) slot)) {
                throw new IllegalStateException("swap " + name + ": slot " + slot + " freed but not in use");
            }
            slotMap.clear((int) slot);
            used.decrementAndGet();
        } finally {
            lock.unlock();
        }
    }

    /** Pages written to this area since swapon. */
    public long pagesSwapped() {
        return swappedOut.get();
    }

    /** Pages read back from this area since swapon. */
    public long pagesSwappedIn() {
        return swappedIn.get();
    }

    /** Slots in use. */
    public long slotsUsed() {
        return used.get();
    }

    /** Slots in all. */
    public long slots() {
        return slots;
    }

    @Override
    public String toString() {
        return "swap " + name + " on " + device.name() + " (" + slots + " pages" + (fsOps ? ", SWP_FS_OPS" : "") + ")";
    }
}
