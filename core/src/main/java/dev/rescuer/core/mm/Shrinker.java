package dev.rescuer.core.mm;

/**
 * A cache that gives memory back under pressure, like the kernel's {@code struct shrinker}.
 *
 * <p>Reclaim first asks {@link #count} how many objects could be freed, then calls {@link #scan}
 * in batches of at most {@link ShrinkControl#nrToScan()} objects. Both run in the reclaiming task:
 * an allocating task in direct reclaim, or kswapd. {@link ShrinkControl#gfp()} is that allocation's
 * effective context, and the shrinker must honour it: without {@link Gfp#mayFs()} it must not take
 * filesystem locks or wait for filesystem work; without {@link Gfp#mayIo()} it must not start or wait
 * for I/O. A shrinker that cannot make progress in the given context returns {@link #STOP}.
 *
 * <p>While a shrinker runs, the reclaiming task is in a {@code NORECLAIM} scope: its own allocations
 * do not recurse into reclaim. Shrinkers may run concurrently in several reclaiming tasks.
 */
public interface Shrinker {

    /** Returned by {@link #scan} when no more progress is possible in this context ({@code SHRINK_STOP}). */
    long STOP = -1;

    /** The shrinker's name, for reports. */
    String name();

    /** How many objects could be freed now; zero skips this shrinker. Must not block. */
    long count(ShrinkControl control);

    /**
     * Frees up to {@link ShrinkControl#nrToScan()} objects, returning their pages to the allocator.
     *
     * @return the number of objects freed, or {@link #STOP}
     */
    long scan(ShrinkControl control);
}
