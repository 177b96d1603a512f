package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.storage.block.BlockDevice;

import java.util.ArrayList;
import java.util.List;

/**
 * An origin and its snapshots ({@code struct origin} in {@code _origins}). The list is guarded by
 * {@code _origins_lock}: read-held to walk it, write-held to change it. {@link #splitBoundary} is
 * read by {@code origin_map} without the lock.
 */
final class Origin {

    final BlockDevice bdev;
    /** Snapshots of this origin, largest chunk size first ({@code __insert_snapshot}). Guarded by _origins_lock. */
    final List<DmSnapshot> snapshots = new ArrayList<>();
    /** The smallest chunk size of the snapshots ({@code get_origin_minimum_chunksize}); 0 for none. */
    volatile int splitBoundary;

    Origin(BlockDevice bdev) {
        this.bdev = bdev;
    }

    /** {@code __insert_snapshot}: keeps the list sorted by chunk size, largest first. Under _origins_lock for write. */
    void insertSnapshot(DmSnapshot s) {
        int i = 0;
        while (i < snapshots.size() && snapshots.get(i).chunkSize() >= s.chunkSize()) {
            i++;
        }
        snapshots.add(i, s);
        splitBoundary = snapshots.get(snapshots.size() - 1).chunkSize();
    }
}
