package dev.rescuer.storage.dm;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlkStatus;

/**
 * One target of a mapped device's table, covering sectors {@code [begin, begin + len)} of it
 * ({@code struct target_type}'s methods on a {@code struct dm_target}).
 *
 * <p>dm core hands {@link #map} a clone of (a piece of) the bio, addressed to the mapped device at the
 * mapped device's sector; the target computes its own offset with {@link TargetContext#targetOffset}.
 * The clone's end-io belongs to dm core, which calls {@link #endIo} first.
 */
public interface Target {

    /**
     * Maps a clone ({@code ->map}): readdress it and return {@link DmMapio#REMAPPED}, keep it and return
     * {@link DmMapio#SUBMITTED} (then the target submits or ends it later), or {@link DmMapio#KILL}.
     * Runs in the submitting task inside {@code submit_bio}; it may sleep.
     */
    DmMapio map(Bio clone);

    /**
     * Called when a clone ends, before dm core ends the original ({@code ->end_io}, always
     * {@code DM_ENDIO_DONE} here); returns the status to pass up. Runs in the clone's completion
     * context, which may be atomic.
     */
    default BlkStatus endIo(Bio clone, BlkStatus status) {
        return status;
    }

    /**
     * The largest piece, in sectors, that a clone starting at target offset {@code offset} may have
     * ({@code ti->max_io_len}; dm core splits at multiples of it), or 0 for no limit.
     */
    default long maxIoLen(long offset) {
        return 0;
    }

    /** Called when the mapped device is resumed, before it takes bios ({@code ->resume}). */
    default void resume() {
    }
}
