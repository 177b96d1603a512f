package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Task;

/**
 * Who could make a work item finish, as hang reports want to know: the task running it, or, while it
 * waits, the pool's manager (the worker busy creating a worker for that pool) and the queue's rescuer.
 * A snapshot taken under the pool's lock; advisory once the lock is dropped.
 *
 * @param queue the name of the queue it was last queued on, or {@code null} if never queued
 * @param pending whether it is queued and has not started
 * @param runningOn the task running it, or {@code null}
 * @param poolManager the task creating a worker for its pool, or {@code null}
 * @param rescuer its queue's rescuer task, or {@code null} without {@code MEM_RECLAIM}
 */
public record WorkStatus(String queue, boolean pending, Task runningOn, Task poolManager, Task rescuer) {
}
