package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.platform.Platform;

/**
 * How a workload starts its tasks: on a real system {@link #on(Platform)}, under the simulator the
 * scenario context's {@code spawn}, so the run knows when the workload is done.
 */
@FunctionalInterface
public interface TaskStarter {

    /** Starts a task named {@code name} running {@code body}. */
    void start(String name, Runnable body);

    /** Starts tasks with {@link Platform#startThread}. */
    static TaskStarter on(Platform platform) {
        return (name, body) -> platform.startThread(name, body);
    }
}
