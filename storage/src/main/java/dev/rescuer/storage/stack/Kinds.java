package dev.rescuer.storage.stack;

import dev.rescuer.storage.block.BioOp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The device and workload kinds a stack file may use, by their {@code kind} key. An instance, not a
 * global: {@link #builtIn()} gives a fresh registry with the model's kinds, to which others (a
 * filesystem, a page-cache writer) are added with {@link #register}.
 */
public final class Kinds {

    private final Map<String, DeviceKind<?>> devices = new LinkedHashMap<>();
    private final Map<String, WorkloadKind<?>> workloads = new LinkedHashMap<>();

    /** A registry with {@code disk}, {@code dm}, {@code veritysetup}, {@code filesystem}, {@code writer}, {@code reader},
     *  {@code dmsetup-create}, {@code file-writer}, {@code file-reader}, {@code memory-hog},
     *  {@code md-raid1}, {@code mdmon}, {@code sysfs-mount}, {@code loop}, {@code dm-bufio}, {@code thin},
     *  {@code work-flush}, {@code swap}, {@code anon-memory} and {@code metadata-writer}. */
    public static Kinds builtIn() {
        Kinds k = new Kinds();
        k.register(new DiskKind());
        k.register(new DmKind());
        k.register(new VeritysetupKind());
        k.register(new IoKind(BioOp.WRITE));
        k.register(new IoKind(BioOp.READ));
        k.register(new DmsetupCreateKind());
        k.register(new FilesystemKind());
        k.register(PageCacheWorkloadKind.fileWriter());
        k.register(PageCacheWorkloadKind.fileReader());
        k.register(PageCacheWorkloadKind.memoryHog());
        k.register(new MdRaid1Kind()).register(new MdmonKind()).register(new KernfsMountKind());
        k.register(new LoopKind()).register(new DmBufioKind()).register(new ThinWorkloadKind());
        k.register(new WorkFlushKind());
        k.register(new SwapKind()).register(new AnonMemoryKind()).register(PageCacheWorkloadKind.metadataWriter());
        return k;
    }

    /**
     * Adds a device kind.
     *
     * @throws IllegalArgumentException if the name is taken
     */
    public Kinds register(DeviceKind<?> kind) {
        if (devices.putIfAbsent(kind.kind(), kind) != null) {
            throw new IllegalArgumentException("device kind " + kind.kind() + " is already registered");
        }
        return this;
    }

    /**
     * Adds a workload kind.
     *
     * @throws IllegalArgumentException if the name is taken
     */
    public Kinds register(WorkloadKind<?> kind) {
        if (workloads.putIfAbsent(kind.kind(), kind) != null) {
            throw new IllegalArgumentException("workload kind " + kind.kind() + " is already registered");
        }
        return this;
    }

    DeviceKind<?> device(String kind) {
        return devices.get(kind);
    }

    WorkloadKind<?> workload(String kind) {
        return workloads.get(kind);
    }

    String deviceKinds() {
        return String.join(", ", new TreeSet<>(devices.keySet()));
    }

    String workloadKinds() {
        return String.join(", ", new TreeSet<>(workloads.keySet()));
    }
}
