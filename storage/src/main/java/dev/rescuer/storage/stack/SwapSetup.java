package dev.rescuer.storage.stack;

import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.storage.swap.AnonMemory;
import dev.rescuer.storage.swap.SwapArea;

import java.util.ArrayList;
import java.util.List;

/**
 * A run's swap: the areas {@code swapon}ed by {@code swap} entries (each registered as a shrinker of
 * the run's allocator) and the processes whose anonymous memory they may take. Every process's pages
 * may go to every area, as the kernel picks any active area ({@code get_swap_pages}; priorities are
 * not modelled). Created on first use by the run's {@link StackBuild}; areas are built with the
 * devices, before any workload starts, so a process sees every area.
 *
 * <p>Not thread-safe: used by the setup task only, before the workload starts.
 */
public final class SwapSetup {

    private final PageAllocator pages;
    private final List<SwapArea> areas = new ArrayList<>(); // Setup task only.
    private final List<AnonMemory> processes = new ArrayList<>(); // Setup task only.

    /** The swap of a run whose allocator is {@code pages}. */
    public SwapSetup(PageAllocator pages) {
        this.pages = pages;
    }

    /** {@code swapon}: registers {@code area}'s shrinker; processes added so far may swap to it. */
    void swapon(SwapArea area) {
        pages.registerShrinker(area);
        for (AnonMemory m : processes) {
            area.add(m);
        }
        areas.add(area);
    }

    /** Makes {@code mem}'s pages swappable to every area. */
    void add(AnonMemory mem) {
        for (SwapArea a : areas) {
            a.add(mem);
        }
        processes.add(mem);
    }

    /** The allocator anonymous memory takes its pages from. */
    PageAllocator pages() {
        return pages;
    }
}
