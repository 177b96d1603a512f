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
