package dev.rescuer.storage.stack;

/**
 * A kind of entry in a stack file's {@code workload} list ({@code kind: writer}, {@code kind:
 * dmsetup-create}), registered in {@link Kinds}: the entry's keys bind to {@link #configType()};
 * {@link #check} validates it; {@link #start} spawns its tasks.
 *
 * @param <C> the entry's bound configuration
 */
public interface WorkloadKind<C> {

    /** The value of the entry's {@code kind} key. */
    String kind();

    /** The type the entry binds to. */
    Class<C> configType();

    /** Devices the entry creates while it runs (a {@code dmsetup create}), which others may name. */
    default java.util.List<String> createsDevices(C config) {
        return java.util.List.of();
    }

    /**
     * Validates the entry.
     *
     * @throws StackFileException through {@link StackCheck#error}
     */
    void check(C config, StackCheck check);

    /** Starts the entry's tasks, in the setup task of a run. */
    void start(C config, StackBuild build);
}
