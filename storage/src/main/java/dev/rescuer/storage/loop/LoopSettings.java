package dev.rescuer.storage.loop;

import java.util.Objects;

/**
 * What a user (or the kernel version) sets for one loop device.
 *
 * @param worker        who serves requests
 * @param memallocNoio  the worker runs in a {@code PF_MEMALLOC_NOIO} scope (d0a255e795ab "loop: set
 *                      PF_MEMALLOC_NOIO for the worker thread", 2019); {@code false} stands for the
 *                      kernels before it
 * @param directIo      {@code LO_FLAGS_DIRECT_IO} ({@code losetup --direct-io=on}): requests go to the
 *                      backing file's blocks by direct I/O, which allocates its {@code struct dio}
 *                      with {@code GFP_KERNEL}; otherwise through the page cache
 */
public record LoopSettings(LoopWorkerMode worker, boolean memallocNoio, boolean directIo) {

    /** Checks the worker mode is given. */
    public LoopSettings {
        Objects.requireNonNull(worker, "worker");
    }
}
