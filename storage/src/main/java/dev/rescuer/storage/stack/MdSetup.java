package dev.rescuer.storage.stack;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.ModuleParams;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.md.Md;
import dev.rescuer.storage.md.Mddev;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What every md array of one run shares, as the kernel has one of each per machine: sysfs
 * ({@link Kernfs}, whose notify item goes where the module parameter {@code kernfs.notify_wq} says:
 * {@code system_wq} upstream, or {@code kernfs_wq}, a dedicated {@code WQ_MEM_RECLAIM} queue standing
 * for a kernel with Junxiao Bi's patch) and md's core ({@link Md}, with the one {@code md_wq}).
 * Created on first use by the run's {@link StackBuild}, in the setup task; a stack without an md
 * array never creates it.
 *
 * <p>Not thread-safe: used by the setup task only, before the workload starts.
 */
public final class MdSetup {

    private final Kernfs kernfs;
    private final Md md;
    private final List<Mddev> arrays = new ArrayList<>(); // Setup task only.

    /** sysfs and md's core on {@code system}, the notify queue from {@code params}. */
    public MdSetup(RescuerSystem system, ModuleParams params) {
        this.kernfs = new Kernfs(system.workqueues(), notifyQueue(params));
        this.md = new Md(system.workqueues(), system.pages(), kernfs);
    }

    /**
     * Validates {@code kernfs.notify_wq}.
     *
     * @throws IllegalArgumentException naming the parameter and the values it takes
     */
    public static void checkParams(ModuleParams params) {
        notifyQueue(params);
    }

    private static Kernfs.NotifyQueue notifyQueue(ModuleParams params) {
        String q = params.get("kernfs", "notify_wq");
        for (Kernfs.NotifyQueue v : Kernfs.NotifyQueue.values()) {
            if (v.name().toLowerCase(Locale.ROOT).equals(q)) {
                return v;
            }
        }
        throw new IllegalArgumentException("kernfs.notify_wq: '" + q + "' is neither system_wq nor kernfs_wq");
    }

    /** sysfs. */
    public Kernfs kernfs() {
        return kernfs;
    }

    /** Assembles a raid1 array ({@link Md#raid1}) and remembers it for {@link #arrays}. */
    Mddev raid1(String name, List<BlockDevice> mirrors, boolean external) {
        Mddev a = md.raid1(name, mirrors, external);
        arrays.add(a);
        return a;
    }

    /** The arrays assembled so far, in order. */
    List<Mddev> arrays() {
        return List.copyOf(arrays);
    }
}
