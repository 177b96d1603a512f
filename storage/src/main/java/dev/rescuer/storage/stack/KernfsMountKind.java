package dev.rescuer.storage.stack;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.sync.RwSemaphore;

/**
 * {@code kind: sysfs-mount}: a mount (or unmount) of sysfs in progress, standing for
 * {@code kernfs_fill_super} / {@code kernfs_kill_sb}: a task that holds {@code kernfs_supers_rwsem}
 * for write while it allocates {@code pages} pages with {@code GFP_KERNEL} (default 2), from
 * {@code start_ms} on. The invariant: it finished.
 */
public final class KernfsMountKind extends AbstractWorkloadKind<KernfsMountKind.Config> {

    /**
     * A sysfs mount entry.
     *
     * @param kind {@code sysfs-mount}
     * @param name the task's name
     * @param pages pages allocated under the rwsem; default 2
     * @param startMs when the task starts, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     */
    public record Config(String kind, String name, Integer pages,
                         @com.fasterxml.jackson.annotation.JsonProperty("start_ms") MsRange startMs) {
    }

    /** The {@code kind: sysfs-mount} entries. */
    public KernfsMountKind() {
        super("sysfs-mount", Config.class);
    }

    /**
     * The superblock's and root inode's allocations: small {@code GFP_KERNEL} requests, which the page
     * allocator retries until they succeed ({@code __alloc_pages_slowpath}: costly orders only may
     * fail), so {@code __GFP_NOFAIL} in the model.
     */
    private static final Gfp SMALL_KERNEL = Gfp.KERNEL.with(Gfp.Modifier.NOFAIL);

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        if (c.pages() != null && c.pages() < 1) {
            throw check.error("pages", "must be >= 1, got " + c.pages());
        }
        StartDelay.check(c.startMs(), check);
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        int pages = c.pages() == null ? 2 : c.pages();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            RwSemaphore rwsem = b.md().kernfs().supersRwsem();
            rwsem.downWrite();
            try {
                b.system().pages().allocate(pages, SMALL_KERNEL).free();
            } finally {
                rwsem.upWrite();
            }
            done.set(true);
        });
        b.invariant(c.name() + ": finished", done::get);
    }
}
