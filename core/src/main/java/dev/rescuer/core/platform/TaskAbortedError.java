package dev.rescuer.core.platform;

/**
 * Thrown inside a task when its platform tears it down, as a simulator does with the tasks that are
 * still alive at the end of a run (blocked in a hang, or idle workers). It unwinds the task's stack
 * through its {@code finally} blocks and ends the task without a failure report.
 *
 * <p>Code that catches {@code Throwable} around foreign code (a worker around a work item, say) must
 * rethrow it; a task that keeps running after it has been aborted cannot be torn down.
 */
public final class TaskAbortedError extends Error {

    private static final long serialVersionUID = 1L;

    /** Creates the error for {@code task}. */
    public TaskAbortedError(Task task) {
        super("task " + task + " aborted by its platform", null, false, false);
    }
}
