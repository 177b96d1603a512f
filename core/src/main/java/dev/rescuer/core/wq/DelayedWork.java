package dev.rescuer.core.wq;

import dev.rescuer.core.platform.PlatformTimer;

/**
 * A work item queued after a delay, the kernel's {@code delayed_work}: queued with
 * {@link WorkQueue#queueDelayed}, it is pending from that call, sits on a platform timer for the
 * delay, then is queued as usual. {@link #cancel()} and {@link #cancelSync()} also stop the timer;
 * {@link WorkQueue#modDelayed} re-arms it; {@link #flush()} fires a pending timer at once, then waits.
 * A queue refuses {@link WorkQueue#destroy()} while any of its delayed items is on a timer.
 */
public class DelayedWork extends Work {

    // Written by the owner of the PENDING bit.
    volatile PlatformTimer timer;
    volatile WorkQueue targetWq;
    volatile int targetCpu;

    /** A delayed work item that runs {@code body}. */
    public DelayedWork(String name, Runnable body) {
        super(name, body);
    }

    @Override
    Workqueues owner() {
        Workqueues sys = super.owner();
        if (sys == null) {
            WorkQueue wq = targetWq;
            sys = wq == null ? null : wq.system();
        }
        return sys;
    }

    /** Takes the item off its timer ({@code try_to_grab_pending}'s first step). */
    @Override
    boolean grabFromTimer() {
        PlatformTimer t = timer;
        if (t != null && t.cancel()) {
            targetWq.disarmed(this);
            return true;
        }
        return false;
    }

    /** Whether the item is waiting on its timer. Advisory. */
    public boolean isTimerPending() {
        PlatformTimer t = timer;
        return t != null && t.isPending();
    }

    /**
     * Queues the item at once if its timer is pending, then waits for it to finish
     * ({@code flush_delayed_work}).
     *
     * @return whether it had to wait: always when it fired a pending timer (even if the item then
     *     finished before the wait began), otherwise as {@link Work#flush()}
     * @throws IllegalStateException if called from this item's own run, which could never finish;
     *     a pending timer is left armed
     */
    @Override
    public boolean flush() {
        WorkQueue wq = targetWq;
        if (wq != null) {
            refuseWaitFromOwnRun(wq.system().platform().currentTask(), "flush_delayed_work");
        }
        boolean fired = wq != null && wq.fireDelayedNow(this);
        boolean waited = super.flush();
        return fired || waited;
    }
}
