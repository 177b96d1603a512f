package dev.rescuer.sim;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartCost;

/**
 * The simulator's state for one task, attached to its {@link Task} record as platform data. Every
 * mutable field is touched only by the thread holding the baton, or by the controller while no task
 * runs (guarded by the baton; see {@link SimPlatform}'s scheduler state).
 */
final class SimTask {

    final Task task;
    final Runnable body;
    final ThreadStartCost.Refund refund;
    CarrierPool.Carrier carrier;

    /** Asleep in {@code park}: not runnable until woken or timed out. */
    boolean parked;
    /** At {@code cpuRelax}: waits for another task's progress, so it runs only when nothing else can. */
    boolean spinning;
    /** The scheduler's change count when this task last started spinning. */
    long spinEpoch;
    /** A wake-up not yet consumed by a sleep. */
    boolean permit;
    /** When a sleep times out, or {@code Platform.NO_DEADLINE}. */
    long deadline;
    /** The last sleep ended by its deadline rather than a wake-up. */
    boolean timedOut;
    /** What its last sleeps in a row were on, when the first began, and how many (a retry loop's rounds). */
    Primitive repeatedOn;
    long repeatedSince;
    int repeats;
    /** The wait (by its start time) the last sleep belonged to: one wait may park several times. */
    long lastWaitBegan = -1;
    boolean started;
    boolean exited;
    /** Tear-down has thrown into this task once already. */
    boolean abortDelivered;

    SimTask(Task task, Runnable body, ThreadStartCost.Refund refund) {
        this.task = task;
        this.body = body;
        this.refund = refund;
    }

    /** Records a sleep in the wait on {@code on} that began at {@code waitBegan}. */
    void noteSleep(Primitive on, long waitBegan) {
        if (on != repeatedOn || on == null) {
            repeatedOn = on;
            repeatedSince = waitBegan;
            repeats = 1;
        } else if (waitBegan != lastWaitBegan) {
            repeats++;
        }
        lastWaitBegan = waitBegan;
    }

    @Override
    public String toString() {
        return task.toString();
    }
}
