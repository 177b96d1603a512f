package dev.rescuer.core.mm;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocation context, the kernel's {@code gfp_t}: what an allocation may do to find memory.
 *
 * <p>The bases are the kernel's usual combinations:
 * <table>
 *   <caption>Base contexts</caption>
 *   <tr><th>context</th><th>may sleep and reclaim directly</th><th>reclaim may start I/O</th><th>reclaim may enter the filesystem</th><th>wakes kswapd</th></tr>
 *   <tr><td>{@link #KERNEL}</td><td>yes</td><td>yes</td><td>yes</td><td>yes</td></tr>
 *   <tr><td>{@link #NOFS}</td><td>yes</td><td>yes</td><td>no</td><td>yes</td></tr>
 *   <tr><td>{@link #NOIO}</td><td>yes</td><td>no</td><td>no</td><td>yes</td></tr>
 *   <tr><td>{@link #NOWAIT}</td><td>no</td><td>no</td><td>no</td><td>yes</td></tr>
 *   <tr><td>{@link #ATOMIC}</td><td>no (and may dip below the min watermark: {@code __GFP_HIGH})</td><td>no</td><td>no</td><td>yes</td></tr>
 * </table>
 * and {@link Modifier}s add behaviour ({@code NOFAIL}, {@code HIGH}, ...). The context an allocation
 * really runs with is its flags masked by the task's memalloc scopes ({@link #scopedBy}): {@code NOIO}
 * clears I/O and filesystem, {@code NOFS} clears filesystem.
 *
 * <p>Instances are immutable values; contradictory combinations are rejected when built.
 */
public final class Gfp {

    static final int IO = 1;
    static final int FS = 1 << 1;
    static final int DIRECT_RECLAIM = 1 << 2;
    static final int KSWAPD_RECLAIM = 1 << 3;
    static final int HIGH = 1 << 4;
    static final int NOFAIL = 1 << 5;
    static final int RETRY_MAYFAIL = 1 << 6;
    static final int MEMALLOC = 1 << 7;
    static final int NORETRY = 1 << 8;
    static final int NOWARN = 1 << 9;
    static final int NOMEMALLOC = 1 << 10;

    private static final int RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;

    /** May sleep, reclaim, start I/O and enter the filesystem: the normal context ({@code GFP_KERNEL}). */
    public static final Gfp KERNEL = new Gfp(RECLAIM | IO | FS);
    /** Like {@link #KERNEL} but reclaim must not enter the filesystem ({@code GFP_NOFS}). */
    public static final Gfp NOFS = new Gfp(RECLAIM | IO);
    /** Like {@link #KERNEL} but reclaim must not start I/O, nor enter the filesystem ({@code GFP_NOIO}). */
    public static final Gfp NOIO = new Gfp(RECLAIM);
    /** Must not sleep; fails fast rather than reclaim; no reserves ({@code GFP_NOWAIT}). */
    public static final Gfp NOWAIT = new Gfp(KSWAPD_RECLAIM | NOWARN);
    /** Must not sleep; may use part of the reserve below the min watermark ({@code GFP_ATOMIC}). */
    public static final Gfp ATOMIC = new Gfp(HIGH | KSWAPD_RECLAIM);

    /** Behaviour that can be added to a base context. */
    public enum Modifier {
        /** Never fail: retry and wait for memory as long as it takes. Needs a context that may sleep. */
        NOFAIL(Gfp.NOFAIL),
        /** High priority: may allocate down to half the min watermark. */
        HIGH(Gfp.HIGH),
        /** Retry reclaim, but fail rather than wait forever. */
        RETRY_MAYFAIL(Gfp.RETRY_MAYFAIL),
        /** May use every reserve page, ignoring watermarks (for the reclaim path itself). */
        MEMALLOC(Gfp.MEMALLOC),
        /** Try direct reclaim once, then fail (what mempools use for their first attempt). */
        NORETRY(Gfp.NORETRY),
        /** Do not log a failure. */
        NOWARN(Gfp.NOWARN),
        /** Never use the emergency reserves, even from a reclaiming task. */
        NOMEMALLOC(Gfp.NOMEMALLOC);

        final int bit;

        Modifier(int bit) {
            this.bit = bit;
        }
    }

    private final int bits;

    private Gfp(int bits) {
        this.bits = bits;
    }

    /** Builds a context from raw bits, rejecting contradictions. */
    static Gfp of(int bits) {
        if ((bits & NOFAIL) != 0 && (bits & DIRECT_RECLAIM) == 0) {
            throw new IllegalArgumentException("__GFP_NOFAIL needs a context that may sleep in direct reclaim; "
                    + describe(bits & ~NOFAIL) + " may not, so the allocation could neither wait nor fail");
        }
        if ((bits & NOFAIL) != 0 && (bits & (RETRY_MAYFAIL | NORETRY)) != 0) {
            throw new IllegalArgumentException("__GFP_NOFAIL contradicts "
                    + ((bits & NORETRY) != 0 ? "__GFP_NORETRY" : "__GFP_RETRY_MAYFAIL"));
        }
        if ((bits & MEMALLOC) != 0 && (bits & NOMEMALLOC) != 0) {
            throw new IllegalArgumentException("__GFP_MEMALLOC contradicts __GFP_NOMEMALLOC");
        }
        for (Gfp base : BASES) {
            if (base.bits == bits) {
                return base;
            }
        }
        return new Gfp(bits);
    }

    /** This context with {@code modifiers} added. */
    public Gfp with(Modifier... modifiers) {
        int b = bits;
        for (Modifier m : modifiers) {
            b |= m.bit;
        }
        return b == bits ? this : of(b);
    }

    /** This context with {@code modifiers} removed. */
    public Gfp without(Modifier... modifiers) {
        int b = bits;
        for (Modifier m : modifiers) {
            b &= ~m.bit;
        }
        return b == bits ? this : of(b);
    }

    /** This context with raw bits cleared. */
    Gfp clear(int mask) {
        int b = bits & ~mask;
        return b == bits ? this : of(b);
    }

    /**
     * The effective context under a task's memalloc scope flags ({@code current_gfp_context}):
     * {@link MemallocScope#NOIO} clears I/O and filesystem, {@link MemallocScope#NOFS} clears filesystem.
     */
    public Gfp scopedBy(int memallocFlags) {
        if ((memallocFlags & MemallocScope.NOIO) != 0) {
            return clear(IO | FS);
        }
        if ((memallocFlags & MemallocScope.NOFS) != 0) {
            return clear(FS);
        }
        return this;
    }

    /**
     * Like {@link #scopedBy(int)}; with {@code mergeNofsNoio} (Patocka's proposal, seed 003) a context
     * left without {@code __GFP_FS}, by its own flags or by a {@code NOFS} scope, loses
     * {@code __GFP_IO} too.
     */
    public Gfp scopedBy(int memallocFlags, boolean mergeNofsNoio) {
        Gfp g = scopedBy(memallocFlags);
        return mergeNofsNoio && !g.mayFs() ? g.clear(IO) : g;
    }

    /** Reclaim for this allocation may start I/O ({@code __GFP_IO}). */
    public boolean mayIo() {
        return (bits & IO) != 0;
    }

    /** Reclaim for this allocation may call into the filesystem ({@code __GFP_FS}). */
    public boolean mayFs() {
        return (bits & FS) != 0;
    }

    /** The allocation may sleep and run reclaim itself ({@code __GFP_DIRECT_RECLAIM}, {@code gfpflags_allow_blocking}). */
    public boolean mayDirectReclaim() {
        return (bits & DIRECT_RECLAIM) != 0;
    }

    /** The allocation wakes the background reclaimer when memory is low ({@code __GFP_KSWAPD_RECLAIM}). */
    public boolean mayWakeKswapd() {
        return (bits & KSWAPD_RECLAIM) != 0;
    }

    /** Whether {@code modifier} is set. */
    public boolean has(Modifier modifier) {
        return (bits & modifier.bit) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Gfp && ((Gfp) o).bits == bits;
    }

    @Override
    public int hashCode() {
        return bits;
    }

    /** The kernel's spelling, for example {@code GFP_NOFS|__GFP_NOFAIL}. */
    @Override
    public String toString() {
        return describe(bits);
    }

    private static final Gfp[] BASES = {KERNEL, NOFS, NOIO, ATOMIC, NOWAIT};
    private static final String[] BASE_NAMES = {"GFP_KERNEL", "GFP_NOFS", "GFP_NOIO", "GFP_ATOMIC", "GFP_NOWAIT"};

    private static String describe(int bits) {
        List<String> parts = new ArrayList<>();
        int rest = bits;
        int core = RECLAIM | IO | FS;
        for (int i = 0; i < BASES.length; i++) {
            int base = BASES[i].bits;
            if ((bits & base) == base && (bits & core) == (base & core)) {
                parts.add(BASE_NAMES[i]);
                rest = bits & ~base;
                break;
            }
        }
        String[] names = {"__GFP_IO", "__GFP_FS", "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM", "__GFP_HIGH",
                "__GFP_NOFAIL", "__GFP_RETRY_MAYFAIL", "__GFP_MEMALLOC", "__GFP_NORETRY", "__GFP_NOWARN", "__GFP_NOMEMALLOC"};
        for (int i = 0; i < names.length; i++) {
            if ((rest & (1 << i)) != 0) {
                parts.add(names[i]);
            }
        }
        return parts.isEmpty() ? "0" : String.join("|", parts);
    }
}
