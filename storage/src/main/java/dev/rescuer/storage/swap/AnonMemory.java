package dev.rescuer.storage.swap;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.SpinLock;

import java.util.ArrayDeque;

/**
 * A process's anonymous memory: pages it faulted in ({@link #fault}, {@code GFP_HIGHUSER_MOVABLE},
 * here {@code GFP_KERNEL}) that sit on the anonymous LRU until reclaim swaps them out through a
 * {@link SwapArea}, or the process gives them back ({@link #release}). A swapped page stays the
 * process's (its slot is held) until released; the model never faults it back in.
 *
 * <p>Left out: faulting swapped pages back in, the active/inactive split and referenced bits (the LRU
 * is FIFO), the swap cache, and page tables.
 *
 * <p><b>Locking.</b> {@code lruLock} ({@code lruvec->lru_lock}) guards {@code lru} and
 * {@code swapped}; it is a spin lock and nothing sleeps under it.
 */
public final class AnonMemory {

    private final PageAllocator pages;
    private final String name;
    private final SpinLock lruLock;
    /** Resident pages, oldest first. Guarded by lruLock. */
    private final ArrayDeque<Pages> lru = new ArrayDeque<>();
    /** Pages swapped out and not yet released. Guarded by lruLock. */
    private long swapped;

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

    /** Takes the oldest resident page off the LRU for swap-out ({@code isolate_lru_folios}), or null. */
    Pages isolateOldest() {
        lruLock.lock();
        try {
            return lru.pollFirst();
        } finally {
            lruLock.unlock();
        }
    }

    /** Puts back a page swap-out could not write. */
    void putBack(Pages p) {
        lruLock.lock();
        try {
            lru.addFirst(p);
        } finally {
            lruLock.unlock();
        }
    }

    /** Records a page written to swap and freed. */
    void swappedOut() {
        lruLock.lock();
        try {
            swapped++;
        } finally {
            lruLock.unlock();
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

    /** Pages swapped out and not released. */
    public long swapped() {
        lruLock.lock();
        try {
            return swapped;
        } finally {
            lruLock.unlock();
        }
    }

    /**
     * Gives every page back: resident pages to the allocator; swapped pages' slots to
     * {@code area} (null if none were swapped).
     */
    public void release(SwapArea area) {
        ArrayDeque<Pages> mine;
        long slots;
        lruLock.lock();
        try {
            mine = new ArrayDeque<>(lru);
            lru.clear();
            slots = swapped;
            swapped = 0;
        } finally {
            lruLock.unlock();
        }
        for (Pages p : mine) {
            p.free();
        }
        if (slots > 0) {
            area.freeSlots(slots);
        }
    }

    @Override
    public String toString() {
        return "anon " + name;
    }
}
