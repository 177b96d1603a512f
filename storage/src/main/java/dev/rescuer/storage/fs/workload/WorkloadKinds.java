package dev.rescuer.storage.fs.workload;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The workload kinds a stack file can name, each a factory from settings: {@code writer}
 * ({@link PageCacheWriter}), {@code reader} ({@link FileReader}), {@code memory-hog}
 * ({@link MemoryHog}).
 */
public final class WorkloadKinds {

    /** Builds a workload of one kind. */
    @FunctionalInterface
    public interface Factory {
        /**
         * Builds the workload {@code name} from {@code settings}.
         *
         * @throws WorkloadConfigException naming the field that is wrong
         */
        Workload build(String name, Settings settings, WorkloadEnv env);
    }

    private static final Map<String, Factory> KINDS = new TreeMap<>(Map.of(
            "writer", PageCacheWriter::build,
            "reader", FileReader::build,
            "memory-hog", MemoryHog::build,
            "metadata-writer", MetadataWriter::build));

    private WorkloadKinds() {
    }

    /** The kind names. */
    public static List<String> names() {
        return List.copyOf(KINDS.keySet());
    }

    /**
     * Builds workload {@code name} of {@code kind} from raw settings.
     *
     * @throws WorkloadConfigException for an unknown kind or bad settings
     */
    public static Workload build(String kind, String name, Map<String, ?> settings, WorkloadEnv env) {
        Factory f = KINDS.get(kind);
        String where = "workload '" + name + "'";
        if (f == null) {
            throw new WorkloadConfigException(where, "kind", "unknown workload kind '" + kind + "'; known kinds: " + String.join(", ", KINDS.keySet()));
        }
        return f.build(name, new Settings(where + " (" + kind + ")", settings), env);
    }
}
