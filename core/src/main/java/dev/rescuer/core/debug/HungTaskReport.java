package dev.rescuer.core.debug;

import dev.rescuer.core.platform.Task;

import java.time.Duration;

/**
 * One task found blocked past the hung-task timeout.
 *
 * @param task the blocked task
 * @param blockedFor how long it had been blocked when found
 * @param text the report in the kernel's words: the task, its workqueue item if it is a worker,
 *     what it waits on, who holds that, and what it holds
 */
public record HungTaskReport(Task task, Duration blockedFor, String text) {
}
