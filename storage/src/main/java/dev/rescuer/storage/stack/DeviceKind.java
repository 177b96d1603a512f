package dev.rescuer.storage.stack;

/**
 * A kind of entry in a stack file's {@code devices} list ({@code kind: disk}, {@code kind: dm}),
 * registered in {@link Kinds}. The entry's keys bind to {@link #configType()} (unknown keys refused);
 * {@link #check} validates it before anything runs; {@link #build} creates the device in the setup
 * task of a run.
 *
 * @param <C> the entry's bound configuration
 */
public interface DeviceKind<C> {

    /** The value of the entry's {@code kind} key. */
    String kind();

    /** The type the entry binds to. */
    Class<C> configType();

    /** The device's name (its {@code name} key). */
    String name(C config);

    /**
     * Whether the entry is a block device others may stack on (a disk, a mapped device); false for a
     * filesystem, which workloads name in {@code fs} instead.
     */
    default boolean blockDevice() {
        return true;
    }

    /**
     * Validates the entry: required keys, values, the devices it stacks on ({@code check.requireDevice}).
     *
     * @throws StackFileException through {@link StackCheck#error}
     */
    void check(C config, StackCheck check);

    /**
     * The block device's size in sectors as the file fixes it, called after {@link #check} passed, so
     * that the entries stacked on it can be checked against it at load ({@link StackCheck#sectors});
     * {@code null} if it is not known before the run.
     */
    default Long sectors(C config, StackCheck check) {
        return null;
    }

    /** Creates the device on the run's system and adds it to the device-mapper's namespace. */
    void build(C config, StackBuild build);
}
