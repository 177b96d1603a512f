package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.Primitive;

/**
 * How a snapshot limits the COW copies in flight to {@code snapshot_cow_threshold}. The kernel has
 * had two implementations, selected in the model by the {@code dm_snapshot.cow_throttle} module
 * parameter (in the kernel, by its version):
 * <ul>
 *   <li>{@link CowCountSemaphore}, {@code semaphore} (721b1d98fb51, v5.0): {@code start_copy} takes
 *       {@code s->cow_count}, which may sleep wherever it is called, {@code _origins_lock} held or not;
 *   <li>{@link InProgressWait}, {@code wait-unlocked} (b21555786f18, v5.4): a counter and a wait
 *       queue; only {@code origin_map} and {@code snapshot_map} wait, after dropping
 *       {@code _origins_lock}, and the completion path is never throttled.
 * </ul>
 */
interface CowThrottle {

    /**
     * {@code wait_for_in_progress(s, unlock_origins)}: returns true if the caller may go on; otherwise
     * runs {@code unlockOrigins} (which releases {@code _origins_lock} for read; {@code null} when the
     * caller holds nothing), sleeps until the count is at or below the threshold, and returns false,
     * and the caller starts over.
     */
    boolean waitForInProgress(Runnable unlockOrigins);

    /** {@code account_start_copy}: one more copy in flight. */
    void accountStartCopy();

    /** {@code account_end_copy}: a copy finished; from kcopyd's completion. Never sleeps. */
    void accountEndCopy();

    /** What a throttled task waits on, for reports. */
    Primitive waitedOn();
}
