package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;

/**
 * The reworked COW limit (b21555786f18 "dm snapshot: rework COW throttling to fix deadlock"): a count
 * {@code s->in_progress} and a wait queue {@code s->in_progress_wait}. Starting a copy only counts;
 * {@code wait_for_in_progress} sleeps while the count is above {@code cow_threshold}, and drops
 * {@code _origins_lock} first when asked; ending a copy wakes the waiters once the count is at or
 * below the threshold. The limit is soft: copies started by callers that did not wait overshoot it.
 *
 * <p><b>Memory ordering.</b> {@link #inProgress} is written under {@link #lock} (the kernel's
 * {@code in_progress_wait.lock}) and read without it for the unlocked fast check, as the kernel does;
 * it is volatile so that the check and the wait queue's condition see the last write.
 */
final class InProgressWait implements CowThrottle {

    private final int cowThreshold;
    private final SpinLock lock;
    private final WaitQueue inProgressWait;
    /** Copies in flight. Guarded by {@link #lock} for writes. */
    private volatile int inProgress;

    InProgressWait(Platform platform, String snapshot, int cowThreshold) {
        this.cowThreshold = cowThreshold;
        this.lock = new SpinLock(platform, snapshot + "/in_progress_wait.lock", "&s->in_progress_wait.lock");
        this.inProgressWait = new WaitQueue(platform, snapshot + "/in_progress_wait", "&s->in_progress_wait");
    }

    private boolean over() {
        return Integer.toUnsignedLong(inProgress) > Integer.toUnsignedLong(cowThreshold);
    }

    @Override
    public boolean waitForInProgress(Runnable unlockOrigins) {
        if (!over()) {
            return true;
        }
        if (unlockOrigins != null) {
            unlockOrigins.run(); // up_read(&_origins_lock)
        }
        inProgressWait.waitEvent(() -> !over());
        return false;
    }

    @Override
    public void accountStartCopy() {
        lock.lock();
        try {
            inProgress++;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void accountEndCopy() {
        boolean wake;
        lock.lock();
        try {
            if (inProgress == 0) {
                throw new IllegalStateException("account_end_copy with no copy in progress"); // BUG_ON(!s->in_progress)
            }
            inProgress--;
            wake = !over();
        } finally {
            lock.unlock();
        }
        if (wake) {
            inProgressWait.wakeUp();
        }
    }

    @Override
    public Primitive waitedOn() {
        return inProgressWait;
    }
}
