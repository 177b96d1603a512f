package dev.rescuer.core.debug;

import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.List;

/**
 * One task found blocked past the hung-task timeout.
 *
 * @param task the blocked task
 * @param blockedFor how long it had been blocked when found (for a task blocked outside the platform:
 *     at least this long, measured from the first look that found it so)
 * @param text the report in the kernel's words: the task, its workqueue item if it is a worker,
 *     what it waits on, who holds that, and what it holds; or, for a task blocked outside the
 *     platform, its JVM stack
 * @param jvmStack the JVM stack of a task blocked outside the platform, innermost frame first;
 *     empty for a task blocked in a core primitive
 */
public record HungTaskReport(Task task, Duration blockedFor, String text, List<StackTraceElement> jvmStack) {

    /** Copies the stack, so the report stays as it was found. */
    public HungTaskReport {
        jvmStack = List.copyOf(jvmStack);
    }

    /** Whether the task was blocked outside the platform (and {@link #jvmStack()} says where). */
    public boolean blockedOutsidePlatform() {
        return !jvmStack.isEmpty();
    }
}
