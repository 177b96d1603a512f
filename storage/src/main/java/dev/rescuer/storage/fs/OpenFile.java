package dev.rescuer.storage.fs;

import dev.rescuer.storage.block.BlkStatus;

/**
 * An open file of a {@link JournalFs} ({@code struct file}): holds a reference on its inode until
 * {@link #close()}, so the inode cache cannot reclaim it meanwhile. Methods forward to the
 * filesystem; see there for what each guarantees. Closing twice throws.
 */
public final class OpenFile implements AutoCloseable {

    private final JournalFs fs;
    private final Inode inode;
    private boolean closed; // owned by the task using the file

    OpenFile(JournalFs fs, Inode inode) {
        this.fs = fs;
        this.inode = inode;
    }

    /** The file's inode. */
    public Inode inode() {
        return inode;
    }

    /** The filesystem it belongs to. */
    public JournalFs fs() {
        return fs;
    }

    /** {@link JournalFs#read}. */
    public long read(long offset, long length) {
        return fs.read(this, offset, length);
    }

    /** {@link JournalFs#write}. */
    public long write(long offset, long length) {
        return fs.write(this, offset, length);
    }

    /** {@link JournalFs#fsync}. */
    public BlkStatus fsync() {
        return fs.fsync(this);
    }

    /** {@link JournalFs#syncFileRange}. */
    public BlkStatus syncFileRange() {
        return fs.syncFileRange(this);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /** Drops the reference on the inode ({@code fput} → {@code iput}). */
    @Override
    public void close() {
        checkOpen();
        closed = true;
        fs.release(inode);
    }

    @Override
    public String toString() {
        return fs.name() + ":" + inode.name();
    }
}
