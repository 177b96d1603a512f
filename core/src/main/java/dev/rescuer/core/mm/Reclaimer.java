package dev.rescuer.core.mm;

/**
 * Who ran a reclaim pass, and with which context: the rows of {@link PageAllocator#reclaimed}.
 * kswapd always reclaims with {@code GFP_KERNEL} ({@code balance_pgdat}); direct reclaim runs in the
 * allocating task with the allocation's effective context, so it is split by what that context lets
 * reclaim do: enter filesystems ({@code __GFP_FS}), start I/O but not enter filesystems
 * ({@code GFP_NOFS}), or neither ({@code GFP_NOIO}). Under merge-nofs-noio
 * ({@link PageAllocator.Builder#mergeNofsNoio}) no direct pass is ever {@link #DIRECT_NOFS}.
 */
public enum Reclaimer {
    /** The background reclaimer, {@code GFP_KERNEL}. */
    KSWAPD("kswapd"),
    /** Direct reclaim whose context has {@code __GFP_FS} (and so {@code __GFP_IO}). */
    DIRECT_FS("direct/fs"),
    /** Direct reclaim with {@code __GFP_IO} but not {@code __GFP_FS}: {@code GFP_NOFS}, a {@code nofs} scope. */
    DIRECT_NOFS("direct/nofs"),
    /** Direct reclaim without {@code __GFP_IO}: {@code GFP_NOIO}, a {@code noio} scope. */
    DIRECT_NOIO("direct/noio");

    private final String label;

    Reclaimer(String label) {
        this.label = label;
    }

    /** The short name used in counters and tables: {@code kswapd}, {@code direct/fs}, {@code direct/nofs}, {@code direct/noio}. */
    public String label() {
        return label;
    }

    /** The reclaimer of a direct pass with effective context {@code eff}. */
    static Reclaimer direct(Gfp eff) {
        if (eff.mayFs()) {
            return DIRECT_FS;
        }
        return eff.mayIo() ? DIRECT_NOFS : DIRECT_NOIO;
    }
}
