package dev.rescuer.storage.block;

import dev.rescuer.core.platform.Platform;

/**
 * A block device: a disk, a mapped device, a loop device, an md array ({@code struct block_device}
 * with its disk's {@code ->submit_bio}).
 *
 * <p>Nobody calls {@link #submitBio} directly: bios enter through {@link BlockLayer#submitBioNoacct},
 * which calls it in the submitting task with that task's {@code bio_list} active, so a device that
 * submits further bios from inside {@code submitBio} has them queued and dispatched after it returns,
 * never recursing. A device ends every bio it accepts exactly once with {@link Bio#endio}, from any
 * context (often an interrupt, which is atomic).
 */
public interface BlockDevice {

    /** The device's name, as {@code dmsetup} or {@code /dev} would show it: {@code sda}, {@code vroot}. */
    String name();

    /**
     * The driver that made the device ({@code sd}, {@code dm}, {@code loop}, {@code md}): the lockdep
     * class of its disks' bio completions. The kernel gives every gendisk a lockdep map keyed by the
     * call site that allocated it ({@code __alloc_disk_node}'s {@code lkclass}, one per driver), and
     * {@code submit_bio_wait} waits on a completion of that class
     * ({@code DECLARE_COMPLETION_ONSTACK_MAP(done, bio->bi_bdev->bd_disk->lockdep_map)}), so that a
     * wait for a disk's I/O is not confused with a wait for a mapped device's above it. By default
     * the implementing class's simple name.
     */
    default String driver() {
        return getClass().getSimpleName();
    }

    /** The device's size in 512-byte sectors. */
    long capacitySectors();

    /** The platform the device's tasks, locks and timers run on. */
    Platform platform();

    /**
     * Starts the bio ({@code ->submit_bio}). Called only by {@link BlockLayer#submitBioNoacct}, in the
     * submitting task; it may sleep (for a request tag, a mempool element, a lock) unless the caller
     * is atomic, and it must end the bio exactly once, now or later.
     */
    void submitBio(Bio bio);
}
