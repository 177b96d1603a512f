package dev.rescuer.storage.stack;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.workload.WorkloadEnv;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What every filesystem of one run shares, as the kernel has one of each per machine: the page cache
 * (with its shrinker, registered at creation or, with {@code system.page_cache_shrinker:
 * after-devices}, once every device is built), the global dirty limits ({@code vm.dirty_ratio} 20,
 * {@code vm.dirty_background_ratio} 10), the {@code bdi_wq} writeback queue ({@code MEM_RECLAIM |
 * UNBOUND | FREEZABLE}, {@code default_bdi_init}), and the mounted filesystems by their entry's name.
 * Created on first use by the run's {@link StackBuild}, in the setup task; a stack without a
 * filesystem never creates it, so its runs are unchanged.
 *
 * <p><b>Releasers.</b> A task throttled in {@code balance_dirty_pages} sleeps on the throttle wait queue
 * of the device it dirtied a page of and is released by that device's writeback item, a task waiting for a log commit by its journal's push item: {@link #mount} declares
 * both to the device-mapper's releaser listeners ({@link DeviceMapper#declareReleaser}), which the
 * runner passes to the hang report.
 *
 * <p>Not thread-safe: used by the setup task only, before the workload starts; afterwards only
 * {@link #env} is read.
 */
public final class PageCacheSetup {

    private final RescuerSystem system;
    private final DeviceMapper dm;
    private final PageCache cache;
    private final DirtyThrottle throttle;
    private final WorkQueue bdiWq;
    private final Map<String, JournalFs> mounted = new LinkedHashMap<>(); // Setup task only.
    private final Map<String, FsLayout> layouts = new LinkedHashMap<>(); // Setup task only.
    private boolean shrinkerRegistered; // Setup task only.

    /** The page cache of {@code system}, with its shrinker, the dirty limits and {@code bdi_wq}. */
    public PageCacheSetup(RescuerSystem system, DeviceMapper dm) {
        this(system, dm, true);
    }

    /**
     * The page cache of {@code system} with the dirty limits and {@code bdi_wq}; its shrinker is
     * registered now if {@code registerShrinker}, else by a later {@link #registerShrinker()} (so that
     * shrinkers registered in between come before it in reclaim's walk).
     */
    public PageCacheSetup(RescuerSystem system, DeviceMapper dm, boolean registerShrinker) {
        this.system = system;
        this.dm = dm;
        this.cache = new PageCache(system.pages());
        if (registerShrinker) {
            registerShrinker();
        }
        this.throttle = DirtyThrottle.withDefaults(cache);
        this.bdiWq = BdiWriteback.allocBdiWq(system.workqueues());
    }

    /**
     * Registers the page cache's shrinker, if that has not been done.
     */
    public void registerShrinker() {
        if (!shrinkerRegistered) {
            cache.registerShrinker();
            shrinkerRegistered = true;
        }
    }

    /** The page cache. */
    public PageCache cache() {
        return cache;
    }

    /**
     * Mounts {@code fs}'s filesystem under the entry name {@code name}: a read-write mount gets the
     * device's {@code bdi_writeback} on {@code bdi_wq}; declares who releases its waits, and who
     * waits on whom to the device-mapper's wait graph (writeback, the journal, the superblock shrinker).
     */
    JournalFs mount(String name, BlockDevice device, FsLayout layout, MountOptions options) {
        JournalFs fs;
        if (options.readOnly()) {
            fs = JournalFs.mount(device, layout, options, cache, null, null);
        } else {
            BdiWriteback wb = new BdiWriteback(device.name(), bdiWq, throttle);
            fs = JournalFs.mount(device, layout, options, cache, system.workqueues(), wb);
            dm.declareReleaser(wb.throttleWait(), wb.work()); // its own device's writers only
            dm.declareReleaser(fs.journal().commitWait(), fs.journal().pushItem());
            wb.declareWaits(dm.waitGraph());
        }
        fs.declareWaits(dm.waitGraph());
        mounted.put(name, fs);
        layouts.put(name, layout);
        return fs;
    }

    /** The mounted filesystem of entry {@code name}, or {@code null}. */
    JournalFs mounted(String name) {
        return mounted.get(name);
    }

    /** File {@code file} of the filesystem mounted as entry {@code fs} ({@code mkfs}'s layout). */
    FsLayout.FileEntry file(String fs, String file) {
        return layouts.get(fs).file(file);
    }

    /** What the page-cache workloads run with: the allocator, the mounted filesystems, the progress hook. */
    WorkloadEnv env(Runnable onProgress) {
        return new WorkloadEnv(system.pages(), mounted, onProgress);
    }
}
