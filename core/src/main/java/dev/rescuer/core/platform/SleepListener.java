package dev.rescuer.core.platform;

/**
 * Learns when a task is about to sleep in {@link Platform#await} and when it runs again.
 *
 * <p>This is the hook the workqueue's concurrency management is built on, like the kernel's
 * {@code wq_worker_sleeping()} and {@code wq_worker_running()}, which the scheduler calls for tasks
 * flagged {@code PF_WQ_WORKER}. A task installs its own listener with
 * {@link Task#setSleepListener(SleepListener)}.
 *
 * <p>Both methods run on the sleeping task itself, outside any lock of the primitive being waited on.
 * They must not block: they may take spin locks and wake other tasks.
 */
public interface SleepListener {

    /** Called on {@code task} right before it goes to sleep. */
    void sleeping(Task task);

    /** Called on {@code task} once it has been woken and its wait is over (or timed out). */
    void running(Task task);
}
