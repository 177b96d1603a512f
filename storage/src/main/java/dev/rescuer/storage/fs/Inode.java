package dev.rescuer.storage.fs;

import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.storage.pagecache.AddressSpace;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-core inode ({@code struct xfs_inode} with its VFS inode): the file's size, its page cache
 * mapping, the memory the inode itself occupies, and its pin count.
 *
 * <p><b>Pinning.</b> An inode logged in a transaction is pinned ({@code xfs_ipin}) until the journal
 * context holding that change is on disk ({@code xfs_iunpin} from the commit's completion): until
 * then it may not be freed, and reclaiming it means forcing the log ({@code xfs_iunpin_wait}).
 * {@code commitSeq} is the sequence of the last context it was logged in ({@code ili_commit_seq}).
 *
 * <p><b>Locking.</b> {@code iLock} ({@code i_rwsem}, a mutex here) serialises writers of the file
 * and guards changes of {@code size}; {@code size} is volatile for readers. {@code refCount} and
 * {@code onLru} are guarded by the inode cache's lock. {@code pinCount} is atomic and
 * {@code commitSeq} is written under the journal's CIL lock and read without it (volatile).
 */
public final class Inode {

    private final long ino;
    private final FsLayout.FileEntry entry;
    private final AddressSpace mapping;
    /** The memory of the in-core inode; freed exactly once, when the inode is reclaimed. */
    final Pages memory;
    final Mutex iLock;

    volatile long size;                                   // Guarded by iLock for writes
    final AtomicInteger pinCount = new AtomicInteger();   // atomic: pinned by commits, unpinned by their end
    volatile long commitSeq;                              // Guarded by Journal.cilLock for writes
    int refCount;                                         // Guarded by InodeCache.lock
    boolean onLru;                                        // Guarded by InodeCache.lock

    Inode(FsLayout.FileEntry entry, long sizeOnDisk, AddressSpace mapping, Pages memory, Mutex iLock) {
        this.ino = entry.ino();
        this.entry = entry;
        this.mapping = mapping;
        this.memory = memory;
        this.iLock = iLock;
        this.size = sizeOnDisk;
    }

    /** The inode number. */
    public long ino() {
        return ino;
    }

    /** The file's name. */
    public String name() {
        return entry.name();
    }

    /** The file's size in memory, in bytes (ahead of the disk until the journal commits it). */
    public long size() {
        return size;
    }

    /** The file's page cache. */
    public AddressSpace mapping() {
        return mapping;
    }

    /** Whether a logged change of this inode is not on disk yet. */
    public boolean isPinned() {
        return pinCount.get() > 0;
    }

    FsLayout.FileEntry entry() {
        return entry;
    }

    @Override
    public String toString() {
        return "inode " + ino + " (" + entry.name() + ")";
    }
}
