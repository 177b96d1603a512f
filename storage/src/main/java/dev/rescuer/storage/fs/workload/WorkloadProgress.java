package dev.rescuer.storage.fs.workload;

/**
 * A workload's progress.
 *
 * @param done units done (pages written, read or allocated)
 * @param total units it will do in all
 * @param finished every task of the workload has returned
 * @param failure the first task's failure, or {@code null}
 */
public record WorkloadProgress(long done, long total, boolean finished, String failure) {
}
