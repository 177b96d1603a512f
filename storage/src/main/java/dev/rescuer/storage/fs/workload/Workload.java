package dev.rescuer.storage.fs.workload;

/**
 * A running load on the system: built from settings by a {@link WorkloadKinds kind}, started once,
 * observed through {@link #progress()}.
 */
public interface Workload {

    /** The workload's name, from the stack file; its tasks are named after it. */
    String name();

    /**
     * Starts the workload's tasks.
     *
     * @throws IllegalStateException if it was started before
     */
    void start(TaskStarter starter);

    /** How far it got. Never blocks; any task may ask. */
    WorkloadProgress progress();
}
