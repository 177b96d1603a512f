package dev.rescuer.storage.fs.workload;

/** A workload's settings are wrong; the message names the workload and the field. */
public final class WorkloadConfigException extends IllegalArgumentException {

    /** A problem with {@code field} of the workload described by {@code where}. */
    public WorkloadConfigException(String where, String field, String problem) {
        super(where + ": field '" + field + "': " + problem);
    }

    /** A problem with the workload as a whole. */
    public WorkloadConfigException(String where, String problem) {
        super(where + ": " + problem);
    }
}
