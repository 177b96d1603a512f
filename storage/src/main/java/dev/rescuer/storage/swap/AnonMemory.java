package dev.rescuer.storage.swap;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.storage.block.BlkStatus;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A process's anonymous memory: pages it faulted in ({@link #fault}) that sit on the anonymous LRU
 * until reclaim swaps them out through a {@link SwapArea}, pages it faults back in from swap
 * ({@link #swapIn}, {@code do_swap_page}), and {@link #release}, which gives everything back. A
 * swapped page stays the process's (its slot is held) until swapped in or released.
 *
 * <p>Left out: the active/inactive split and referenced bits (the LRU is FIFO, so touching a
 * resident page changes nothing), the swap cache, and page tables.
 *
 * <p><b>Ownership.</b> {@link #fault}, {@link #swapIn} and {@link #release} are the owning process's
 * and are called by one task; reclaim (any task) takes pages with {@code isolateOldest} and records
 * them with {@code swappedOut}. <b>Locking.</b> {@code lruLock} ({@code lruvec->lru_lock}) guards
 * {@code lru} and {@code swapped}; it is a spin lock and nothing sleeps or allocates under it.
 */
public final class AnonMemory {

    /** Where a swapped-out page is: an area and a slot ({@code swp_entry_t}). */
    private record SwapEntry(SwapArea area, long slot) {
    }

    private final PageAllocator pages;
    private final String name;
    private final SpinLock lruLock;
    /** Resident pages, oldest first. Guarded by lruLock. */
    private final ArrayDeque<Pages> lru = new ArrayDeque<>();
    /** Swapped-out pages, oldest first. Guarded by lruLock. */
    private final ArrayDeque<SwapEntry> swapped = new ArrayDeque<>();
    /** Set by {@link #release}: a swap-out finishing later gives its slot back at once. Guarded by lruLock. */
    private boolean released;

    /** The anonymous memory of process {@code name}, taking pages from {@code pages}. */
    public AnonMemory(PageAllocator pages, String name) {
        this.pages = pages;
        this.name = name;
        this.lruLock = new SpinLock(pages.platform(), name + "/lru_lock", "lruvec->lru_lock");
    }

    /** Faults in one page with {@code gfp}, which may reclaim (and swap out others); returns false if the allocation failed. */
    public boolean fault(Gfp gfp) {
        Pages p = pages.tryAllocate(1, gfp);
        if (p == null) {
            return false;
        }
        lruLock.lock();
        try {
            lru.addLast(p);
        } finally {
            lruLock.unlock();
        }
        return true;
    }

    /**
     * Faults the oldest swapped-out page back in ({@code do_swap_page}): allocates a page with
     * {@code gfp} (which may reclaim, and swap out others), reads its slot, frees the slot and puts the
     * page at the LRU's tail. Returns false if nothing is swapped out.
     *
     * @throws IllegalStateException if the allocation or the read failed (the page stays swapped out)
     */
    public boolean swapIn(Gfp gfp) {
        SwapEntry e;
        lruLock.lock();
        try {
            e = swapped.pollFirst();
        } finally {
            lruLock.unlock();
        }
        if (e == null) {
            return false;
        }
        Pages p = pages.tryAllocate(1, gfp);
        BlkStatus st = p == null ? null : e.area().swapIn(e.slot(), this);
        lruLock.lock();
        try {
            if (st == BlkStatus.OK) {
                lru.addLast(p);
            } else {
                swapped.addFirst(e);
            }
        } finally {
            lruLock.unlock();
        }
        if (st != BlkStatus.OK) {
            if (p != null) {
                p.free();
            }
            throw new IllegalStateException("swap-in for " + this + " from " + e.area() + " slot " + e.slot() + " failed: "
                    + (p == null ? "no page (" + gfp + ")" : "read " + st));
        }
        return true;
    }

    /** Takes the oldest resident page off the LRU for swap-out ({@code isolate_lru_folios}), or null. */
    Pages isolateOldest() {
        lruLock.lock();
        try {
            return lru.pollFirst();
        } finally {
            lruLock.unlock();
        }
    }

    /** Puts back a page swap-out could not write (frees it if the process has released its memory meanwhile). */
    void putBack(Pages p) {
        boolean gone;
        lruLock.lock();
        try {
            gone = released;
            if (!gone) {
                lru.addFirst(p);
            }
        } finally {
            lruLock.unlock();
        }
        if (gone) {
            p.free();
        }
    }

    /** Records a page written to {@code area}'s slot {@code slot} and freed (gives the slot back if the process has released its memory meanwhile). */
    void swappedOut(SwapArea area, long slot) {
        boolean gone;
        lruLock.lock();
        try {
            gone = released;
            if (!gone) {
                swapped.addLast(new SwapEntry(area, slot));
            }
        } finally {
            lruLock.unlock();
        }
        if (gone) {
            area.freeSlot(slot);
        }
    }

    /** Resident pages. */
    public int resident() {
        lruLock.lock();
        try {
            return lru.size();
        } finally {
            lruLock.unlock();
        }
    }

    /** Pages swapped out and neither swapped in nor released. */
    public long swapped() {
        lruLock.lock();
        try {
            return swapped.size();
        } finally {
            lruLock.unlock();
        }
    }

    /**
     * Gives every page back: resident pages to the allocator, swapped pages' slots to their areas
     * (process exit). A swap-out in flight meanwhile gives its slot back when it finishes.
     */
    public void release() {
        List<Pages> mine;
        List<SwapEntry> slots;
        lruLock.lock();
        try {
            mine = new ArrayList<>(lru);
            lru.clear();
            slots = new ArrayList<>(swapped);
            swapped.clear();
            released = true;
        } finally {
            lruLock.unlock();
        }
        for (Pages p : mine) {
            p.free();
        }
        for (SwapEntry e : slots) {
            e.area().freeSlot(e.slot());
        }
    }

    @Override
    public String toString() {
        return "anon " + name;
    }
}
