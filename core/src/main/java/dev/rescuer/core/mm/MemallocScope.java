package dev.rescuer.core.mm;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

/**
 * A scoped restriction on the current task's allocations, like the kernel's
 * {@code memalloc_noio_save()}/{@code memalloc_noio_restore()} pair, as an {@link AutoCloseable}:
 * <pre>{@code
 * try (MemallocScope s = MemallocScope.noio(platform)) {
 *     // every allocation here is at most GFP_NOIO, whatever flags it asks for
 * }
 * }</pre>
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Scopes are per task and do not follow work handed to another task.
 *   <li>{@code NOIO} implies {@code NOFS} ({@link Gfp#scopedBy}).
 *   <li>A scope saves and restores only the bit it sets, so scopes nest: closing an inner
 *       {@code nofs} inside an outer {@code noio} leaves {@code noio} in force. Scopes of different
 *       kinds may also overlap, as the kernel's save/restore pairs may ({@code nofs} opened, then
 *       {@code noio}, then the {@code nofs} closed first): each restores only its own bit.
 *   <li>Closing a scope while a later scope <em>of the same kind</em> is still open (in the kernel,
 *       restoring out of order, which would leave the bit set or clear it too early), closing twice,
 *       or closing from another task throws {@link IllegalStateException} and leaves the flags unchanged.
 * </ul>
 * {@link #NORECLAIM} is the kernel's {@code PF_MEMALLOC} ({@code memalloc_noreclaim_save}): the task
 * is the reclaimer, so its allocations never enter direct reclaim (no recursion) and may use the
 * reserves below the min watermark. Reclaim sets it around shrinkers, and kswapd runs with it.
 */
public final class MemallocScope implements AutoCloseable {

    /** Allocations may not start I/O nor enter the filesystem ({@code PF_MEMALLOC_NOIO}). */
    public static final int NOIO = 1;
    /** Allocations may not enter the filesystem ({@code PF_MEMALLOC_NOFS}). */
    public static final int NOFS = 1 << 1;
    /** The task is reclaiming: no direct reclaim, reserves allowed ({@code PF_MEMALLOC}). */
    public static final int NORECLAIM = 1 << 2;

    private final Task task;
    private final int bit;
    private final int saved;
    /** This scope's place among the open scopes of its own kind, 1 for the outermost. */
    private final int depth;
    private boolean closed;

    /** Bits per kind in the task's packed depths ({@link Task#memallocBitDepths}): up to 1023 nested scopes of one kind. */
    private static final int DEPTH_BITS = 10;
    private static final int DEPTH_MASK = (1 << DEPTH_BITS) - 1;

    private MemallocScope(Task task, int bit) {
        int open = bitDepth(task, bit);
        if (open == DEPTH_MASK) {
            throw new IllegalStateException(name(bit) + " scopes of task " + task + " nested " + DEPTH_MASK + " deep: one is never closed");
        }
        this.task = task;
        this.bit = bit;
        this.saved = task.memallocFlags() & bit;
        this.depth = open + 1;
        task.setMemallocFlags(task.memallocFlags() | bit);
        task.setMemallocScopeDepth(task.memallocScopeDepth() + 1);
        setBitDepth(task, bit, depth);
    }

    private static int shift(int bit) {
        return Integer.numberOfTrailingZeros(bit) * DEPTH_BITS;
    }

    /** How many scopes of kind {@code bit} are open on {@code t}. */
    private static int bitDepth(Task t, int bit) {
        return (t.memallocBitDepths() >>> shift(bit)) & DEPTH_MASK;
    }

    private static void setBitDepth(Task t, int bit, int d) {
        int s = shift(bit);
        t.setMemallocBitDepths((t.memallocBitDepths() & ~(DEPTH_MASK << s)) | (d << s));
    }

    /** Opens a {@code NOIO} scope on the current task. */
    public static MemallocScope noio(Platform platform) {
        return new MemallocScope(platform.currentTask(), NOIO);
    }

    /** Opens a {@code NOFS} scope on the current task. */
    public static MemallocScope nofs(Platform platform) {
        return new MemallocScope(platform.currentTask(), NOFS);
    }

    /** Opens a {@code NORECLAIM} ({@code PF_MEMALLOC}) scope on the current task. */
    public static MemallocScope noreclaim(Platform platform) {
        return new MemallocScope(platform.currentTask(), NORECLAIM);
    }

    /** The effective context of an allocation asking for {@code gfp} in the current task. */
    public static Gfp currentContext(Platform platform, Gfp gfp) {
        return gfp.scopedBy(platform.currentTask().memallocFlags());
    }

    /** Restores the bit this scope set to what it was when the scope opened. */
    @Override
    public void close() {
        Task current = task.platform().currentTask();
        if (current != task) {
            throw new IllegalStateException(name(bit) + " scope opened by task " + task + " closed by task " + current
                    + ": memalloc scopes belong to one task");
        }
        if (closed) {
            throw new IllegalStateException(name(bit) + " scope (depth " + depth + ") of task " + task + " closed twice");
        }
        int open = bitDepth(task, bit);
        if (open != depth) {
            throw new IllegalStateException(name(bit) + " scope (depth " + depth + ") of task " + task
                    + " closed out of order: " + open + " " + name(bit) + " scopes are open, so the innermost must close first");
        }
        closed = true;
        task.setMemallocFlags((task.memallocFlags() & ~bit) | saved);
        task.setMemallocScopeDepth(task.memallocScopeDepth() - 1);
        setBitDepth(task, bit, depth - 1);
    }

    /** The kernel's name for a scope bit. */
    static String name(int bit) {
        switch (bit) {
            case NOIO: return "memalloc_noio";
            case NOFS: return "memalloc_nofs";
            case NORECLAIM: return "memalloc_noreclaim";
            default: return "memalloc(" + bit + ")";
        }
    }

    /** Describes scope flags, for example {@code "NOIO|NOFS"}, or {@code "none"}. */
    public static String describeFlags(int flags) {
        StringBuilder sb = new StringBuilder();
        if ((flags & NOIO) != 0) sb.append("NOIO");
        if ((flags & NOFS) != 0) sb.append(sb.length() > 0 ? "|" : "").append("NOFS");
        if ((flags & NORECLAIM) != 0) sb.append(sb.length() > 0 ? "|" : "").append("NORECLAIM");
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
