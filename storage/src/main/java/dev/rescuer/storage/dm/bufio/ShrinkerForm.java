package dev.rescuer.storage.dm.bufio;

import dev.rescuer.core.mm.Gfp;

/**
 * The historical forms of dm-bufio's shrinker ({@code dm_bufio_shrink_count},
 * {@code dm_bufio_shrink_scan}, {@code __try_evict_buffer}), one per kernel version. A client's form
 * is a setting standing for the kernel it runs; the code never asks which scenario runs.
 *
 * <table>
 *   <caption>What each form does in reclaim</caption>
 *   <tr><th>form</th><th>takes {@code c->lock}</th><th>writes dirty buffers and waits for them</th></tr>
 *   <tr><td>{@link #PRE_2014}</td><td>sleeping lock if {@code __GFP_IO}, else trylock</td><td>if {@code __GFP_IO}</td></tr>
 *   <tr><td>{@link #GFP_FS_2014}</td><td>sleeping lock if {@code __GFP_FS}, else trylock</td><td>if {@code __GFP_FS}</td></tr>
 *   <tr><td>{@link #TRYLOCK_2019}</td><td>always trylock</td><td>if {@code __GFP_FS}</td></tr>
 *   <tr><td>{@link #WORKQUEUE_2020}</td><td>never in reclaim; {@code shrink_work} takes it</td><td>never in reclaim; {@code shrink_work} does, with {@code GFP_KERNEL}</td></tr>
 * </table>
 */
public enum ShrinkerForm {
    /** Before 9d28eb12447e (2014): the shrinker trusted {@code __GFP_IO}. */
    PRE_2014("pre-2014"),
    /** 9d28eb12447e "dm bufio: change __GFP_IO to __GFP_FS in shrinker callbacks" (2014). */
    GFP_FS_2014("gfp-fs-2014"),
    /** bd293d071ffe "dm bufio: fix deadlock with loop device" (2019, always trylock; reverted by cf3591ef8329). */
    TRYLOCK_2019("trylock-2019"),
    /** 70704c33db84 "dm bufio: do buffer cleanup from a workqueue" (2020): reclaim only queues {@code shrink_work}. */
    WORKQUEUE_2020("workqueue-2020");

    private final String key;

    ShrinkerForm(String key) {
        this.key = key;
    }

    /** The spelling used in settings, for example {@code gfp-fs-2014}. */
    public String key() {
        return key;
    }

    /** The form spelled {@code key}; the error lists the valid spellings. */
    public static ShrinkerForm of(String key) {
        for (ShrinkerForm f : values()) {
            if (f.key.equals(key)) {
                return f;
            }
        }
        StringBuilder valid = new StringBuilder();
        for (ShrinkerForm f : values()) {
            valid.append(valid.length() == 0 ? "" : ", ").append(f.key);
        }
        throw new IllegalArgumentException("unknown dm-bufio shrinker form '" + key + "'; expected one of " + valid);
    }

    /** Whether reclaim in context {@code gfp} takes {@code c->lock} with a sleeping lock rather than a trylock. */
    public boolean sleepsOnLock(Gfp gfp) {
        switch (this) {
            case PRE_2014: return gfp.mayIo();
            case GFP_FS_2014: return gfp.mayFs();
            default: return false;
        }
    }

    /** Whether reclaim in context {@code gfp} may write a dirty buffer and wait for it ({@code __make_buffer_clean}). */
    public boolean mayWaitForIo(Gfp gfp) {
        switch (this) {
            case PRE_2014: return gfp.mayIo();
            case GFP_FS_2014:
            case TRYLOCK_2019: return gfp.mayFs();
            default: return false;
        }
    }

    /** Whether reclaim only queues the cleanup item ({@code shrink_work} on {@code dm_bufio_wq}). */
    public boolean defersToWorkqueue() {
        return this == WORKQUEUE_2020;
    }
}
