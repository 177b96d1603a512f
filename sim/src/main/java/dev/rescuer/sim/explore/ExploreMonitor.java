package dev.rescuer.sim.explore;

/**
 * Watches an exploration from outside: it is told when each schedule finishes and may ask the
 * exploration to stop early (the CLI's progress line and its Ctrl-C handling).
 *
 * <p>A stop request is honoured between schedules: each explorer thread finishes the schedule it is
 * running, starts no other, and {@link Explorer#explore} returns a result marked
 * {@link ExploreResult#stopped()} that counts only the schedules {@code 0..k-1} that had all finished:
 * every schedule it counts ran, and its first finding is the lowest-numbered among them. How far
 * {@code k} reaches depends on timing (and so on {@code --parallel}); what is counted does not.
 *
 * <p>Thread safety: {@link #requestStop} may be called from any thread (a signal handler's);
 * {@link #scheduleFinished} is called from the explorer's threads, concurrently when it runs several.
 */
public class ExploreMonitor {

    /** A monitor that watches nothing and never asks to stop. */
    public static final ExploreMonitor NONE = new ExploreMonitor();

    private volatile boolean stopRequested;

    /** Asks the exploration to stop after the schedules now running. Idempotent. */
    public final void requestStop() {
        stopRequested = true;
    }

    /** Whether {@link #requestStop} was called. */
    public final boolean stopRequested() {
        return stopRequested;
    }

    /**
     * Called after each schedule, on the thread that ran it; by default does nothing.
     *
     * @param finished schedules finished so far, in any order
     * @param findings of those, the ones that hung or failed
     * @param requested schedules the exploration was asked for
     */
    public void scheduleFinished(long finished, long findings, long requested) {
    }
}
