/**
 * A journaling filesystem on a block device, in the shape of XFS with its CIL (and of ext4/jbd2
 * where they agree): a layout made by {@link dev.rescuer.storage.fs.FsLayout#mkfs}, mounted
 * read-only or read-write ({@link dev.rescuer.storage.fs.MountOptions}); files whose data lives in
 * the page cache; transactions ({@link dev.rescuer.storage.fs.Handle}) that run in a {@code nofs}
 * scope; a {@link dev.rescuer.storage.fs.Journal} whose push runs as a work item on its own
 * {@code MEM_RECLAIM} queue and writes log blocks by bios; and an inode cache whose shrinker
 * ({@code super_cache_scan}) forces the log and waits for it, so that an allocation anywhere (even
 * kthreadd's for a new worker) can end up waiting on log I/O, as in seed 002.
 */
package dev.rescuer.storage.fs;
