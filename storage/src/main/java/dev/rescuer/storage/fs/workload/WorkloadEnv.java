package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.storage.fs.JournalFs;

import java.util.Map;
import java.util.Objects;

/**
 * What a workload may use: the system's page allocator, the mounted filesystems by name, and a hook
 * called on every unit of progress (the simulator's livelock bound resets on it).
 */
public record WorkloadEnv(PageAllocator allocator, Map<String, JournalFs> filesystems, Runnable onProgress) {

    /** Validates and copies. */
    public WorkloadEnv {
        Objects.requireNonNull(allocator, "allocator");
        filesystems = Map.copyOf(filesystems);
        onProgress = onProgress == null ? () -> { } : onProgress;
    }

    /** The filesystem named {@code name}, or a configuration error naming {@code field} of {@code settings}. */
    JournalFs filesystem(Settings settings, String field) {
        String name = settings.string(field);
        JournalFs fs = filesystems.get(name);
        if (fs == null) {
            throw new WorkloadConfigException(settings.where(), field, "no filesystem '" + name + "' is mounted; mounted: "
                    + (filesystems.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(filesystems.keySet()))));
        }
        return fs;
    }
}
