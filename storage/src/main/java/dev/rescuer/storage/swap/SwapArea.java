package dev.rescuer.storage.swap;

import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A swap area ({@code swapon}) on a block device: one page per slot. As a {@link Shrinker} it is the
 * anonymous half of {@code shrink_folio_list}: it takes the oldest resident page of the registered
 * {@link AnonMemory}s, writes it to a free slot ({@code pageout} → {@code swap_writepage}) and frees
 * it. As in the kernel, an anonymous page is swapped only when the reclaiming allocation may start
 * I/O: {@code if (!(sc->gfp_mask & __GFP_IO)) goto keep_locked} before {@code add_to_swap}; a swap
 * file ({@code SWP_FS_OPS}) also needs {@code __GFP_FS} ({@code may_enter_fs}).
 *
 * <p>Left out on purpose: the write is synchronous (the reclaimer waits for it, where the kernel
 * frees the folio when writeback ends), so swap-out is slower per page than the kernel's; swap-in,
 * the swap cache, clusters and priorities.
 *
 * <p><b>Memory ordering.</b> {@code used} and {@code swappedOut} are atomics, each read on its own;
 * the areas' processes are a copy-on-write list.
 */
public final class SwapArea implements Shrinker {

    private final BlockDevice device;
    private final boolean swapFile;
    private final long slots;
    /** Slots in use. Atomic: taken by reclaim, given back by {@link AnonMemory#release}. */
    private final AtomicLong used = new AtomicLong();
    /** Pages written out, ever. Atomic. */
    private final AtomicLong swappedOut = new AtomicLong();
    private final List<AnonMemory> processes = new CopyOnWriteArrayList<>();

    /**
     * A swap area on {@code device}; {@code swapFile} says it is a file on a filesystem, so that
     * writing to it enters the filesystem.
     */
    public SwapArea(BlockDevice device, boolean swapFile) {
        this.device = device;
        this.swapFile = swapFile;
        this.slots = device.capacitySectors() / (Bio.PAGE_SIZE / Bio.SECTOR_SIZE);
        if (slots < 1) {
            throw new IllegalArgumentException("swap area on " + device.name() + ": " + device.capacitySectors()
                    + " sectors hold no page");
        }
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

    @Override
    public String name() {
        return "swap " + device.name();
    }

    /** Whether reclaim in context {@code sc} may swap to this area. */
    public boolean maySwap(ShrinkControl sc) {
        return sc.gfp().mayIo() && (!swapFile || sc.gfp().mayFs());
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
            return 0; // keep_locked: no __GFP_IO (or no __GFP_FS for a swap file)
        }
        long freed = 0;
        for (AnonMemory m : processes) {
            while (freed < sc.nrToScan()) {
                if (!takeSlot()) {
                    return freed;
                }
                Pages p = m.isolateOldest();
                if (p == null) {
                    used.decrementAndGet();
                    break;
                }
                long slot = swappedOut.get() % slots;
                Bio bio = new Bio(BioOp.WRITE, 0, device, slot * (Bio.PAGE_SIZE / Bio.SECTOR_SIZE), Bio.PAGE_SIZE, null, null,
                        "swap_writepage " + m);
                bio.setData(new long[Bio.PAGE_SIZE / Bio.SECTOR_SIZE], 0);
                if (BlockLayer.submitBioWait(bio) != BlkStatus.OK) {
                    used.decrementAndGet();
                    m.putBack(p);
                    return freed;
                }
                p.free();
                m.swappedOut();
                swappedOut.incrementAndGet();
                freed++;
            }
        }
        return freed;
    }

    private boolean takeSlot() {
        while (true) {
            long u = used.get();
            if (u >= slots) {
                return false;
            }
            if (used.compareAndSet(u, u + 1)) {
                return true;
            }
        }
    }

    /** Gives back {@code n} slots. */
    void freeSlots(long n) {
        used.addAndGet(-n);
    }

    /** Pages written to this area since swapon. */
    public long pagesSwapped() {
        return swappedOut.get();
    }

    /** Slots in use. */
    public long slotsUsed() {
        return used.get();
    }
}
