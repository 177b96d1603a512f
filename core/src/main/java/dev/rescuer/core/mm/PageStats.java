package dev.rescuer.core.mm;

/**
 * A snapshot of a {@link PageAllocator}'s counters. Counters are read one by one, so a snapshot taken
 * while allocations run is approximate; at quiescence {@code freePages + usedPages == totalPages} and
 * {@code pagesAllocated - pagesFreed == usedPages}, which the tests check.
 *
 * @param totalPages the budget
 * @param freePages pages not allocated
 * @param usedPages pages held by live allocations, counted separately from {@code freePages}
 * @param allocations successful allocations
 * @param pagesAllocated pages handed out, in total
 * @param pagesFreed pages given back, in total
 * @param failures allocations that failed
 * @param slowPaths allocations that missed the fast path (free pages at or below the low watermark)
 * @param directReclaims direct reclaim passes run by allocating tasks
 * @param reclaimedObjects objects shrinkers reported freed, direct and background
 * @param kswapdWakeups times an allocation woke the background reclaimer
 * @param kswapdRuns reclaim passes the background reclaimer ran
 * @param memoryWaits times an allocation slept waiting for pages to be freed
 */
public record PageStats(
        long totalPages,
        long freePages,
        long usedPages,
        long allocations,
        long pagesAllocated,
        long pagesFreed,
        long failures,
        long slowPaths,
        long directReclaims,
        long reclaimedObjects,
        long kswapdWakeups,
        long kswapdRuns,
        long memoryWaits) {
}
