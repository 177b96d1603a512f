package dev.rescuer.storage.md;

import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.kernfs.Kernfs;

import java.util.List;

/**
 * The md driver of one system ({@code md_init}): {@code md_wq}, created once with
 * {@code WQ_MEM_RECLAIM} and shared by every array, so all arrays share its one rescuer; and the
 * system's kernfs, through which arrays notify user space.
 */
public final class Md {

    private final Workqueues workqueues;
    private final PageAllocator pages;
    private final Kernfs kernfs;
    private final WorkQueue mdWq;

    /** Loads md: creates {@code md_wq} ({@code alloc_workqueue("md", WQ_MEM_RECLAIM, 0)}). */
    public Md(Workqueues workqueues, PageAllocator pages, Kernfs kernfs) {
        this.workqueues = workqueues;
        this.pages = pages;
        this.kernfs = kernfs;
        this.mdWq = workqueues.create("md", 0, WqFlag.MEM_RECLAIM);
    }

    /** {@code md_wq}. */
    public WorkQueue mdWq() {
        return mdWq;
    }

    /** The system's kernfs. */
    public Kernfs kernfs() {
        return kernfs;
    }

    /** The system's page allocator. */
    public PageAllocator pages() {
        return pages;
    }

    /** The system's workqueues. */
    public Workqueues workqueues() {
        return workqueues;
    }

    /**
     * Assembles and starts a raid1 array {@code name} over {@code mirrors} (mdadm {@code --assemble},
     * then {@code do_md_run}); the array starts clean ({@code in_sync}).
     *
     * @param external whether user space manages the metadata ({@code metadata_version=external:imsm});
     *     otherwise the array's md thread writes the superblock itself
     * @throws IllegalArgumentException with no mirrors, or a mirror with no room after its superblock;
     *     mirrors of different sizes make an array of the smallest one's size, as md does
     */
    public Mddev raid1(String name, List<? extends BlockDevice> mirrors, boolean external) {
        return new Mddev(this, name, mirrors, external);
    }
}
