package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.sync.Semaphore;

/**
 * The 2019 COW limit (721b1d98fb51 "dm snapshot: Fix excessive memory usage and workqueue stalls"):
 * a semaphore {@code s->cow_count} of {@code cow_threshold} permits ({@code INT_MAX} for 0), taken in
 * {@code start_copy} and given back in {@code copy_callback}. {@code start_copy} runs inside
 * {@code __origin_write}, that is with {@code _origins_lock} read-held: this is the deadlock of S1.
 */
final class CowCountSemaphore implements CowThrottle {

    private final Semaphore cowCount;

    CowCountSemaphore(Platform platform, String snapshot, int cowThreshold) {
        this.cowCount = new Semaphore(platform, snapshot + "/cow_count", "&s->cow_count",
                cowThreshold > 0 ? cowThreshold : Integer.MAX_VALUE);
    }

    /** The 2019 code had no wait at entry. */
    @Override
    public boolean waitForInProgress(Runnable unlockOrigins) {
        return true;
    }

    @Override
    public void accountStartCopy() {
        cowCount.down();
    }

    @Override
    public void accountEndCopy() {
        cowCount.up();
    }

    @Override
    public Primitive waitedOn() {
        return cowCount;
    }
}
