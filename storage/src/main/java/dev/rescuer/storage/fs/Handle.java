package dev.rescuer.storage.fs;

import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Mutex;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction handle ({@code handle_t} from {@code jbd2_journal_start}, {@code struct xfs_trans}).
 * From {@link Journal#start()} to {@link #close()} the task is in a {@code nofs} memalloc scope, as
 * {@code start_this_handle} does with {@code memalloc_nofs_save}: no allocation made while the
 * handle is open can recurse into a filesystem's reclaim, which might wait for this very
 * transaction to commit. Closing ({@code jbd2_journal_stop}, {@code xfs_trans_commit}) adds the
 * logged items to the journal's open context, then unlocks the buffers joined to the transaction
 * ({@link #lockBuffer}: an AGF) in reverse order and frees the buffer memory it allocated
 * ({@link #holdBuffer}), then restores the scope.
 *
 * <p>A handle belongs to the task that started it; closing it from another task, twice, or out of
 * order with other scopes throws.
 */
public final class Handle implements AutoCloseable {

    private final Journal journal;
    private final MemallocScope nofs;
    private final Map<Inode, Long> items = new LinkedHashMap<>(); // owned by the handle's task
    private final Deque<Mutex> lockedBuffers = new ArrayDeque<>(); // owned by the handle's task
    private final List<Pages> buffers = new ArrayList<>();          // owned by the handle's task
    private boolean closed;

    Handle(Journal journal, MemallocScope nofs) {
        this.journal = journal;
        this.nofs = nofs;
    }

    /** Logs the inode's current size and pins it until the change commits ({@code xfs_trans_log_inode}). */
    public void logInode(Inode inode) {
        if (closed) {
            throw new IllegalStateException("logging " + inode + " in a transaction that has been committed");
        }
        items.put(inode, inode.size());
    }

    /**
     * Locks a metadata buffer and joins it to the transaction: it stays locked until {@link #close()}
     * ({@code xfs_trans_read_buf} of a buffer such as the AGF, unlocked by {@code xfs_trans_commit}).
     */
    public void lockBuffer(Mutex bufferLock) {
        checkOpen("locking " + bufferLock.name());
        bufferLock.lock();
        lockedBuffers.push(bufferLock);
    }

    /**
     * Keeps the memory of a buffer the transaction allocated ({@code xfs_trans_get_buf}) until
     * {@link #close()}, which frees it: the model drops a new metadata buffer from memory when its
     * transaction commits (XFS keeps it in the buffer cache until the buffer cache's shrinker or
     * unmount frees it).
     */
    public void holdBuffer(Pages memory) {
        checkOpen("a buffer");
        buffers.add(memory);
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(what + " in a transaction on " + journal.name() + " that has been committed");
        }
    }

    /** How many items this transaction logged. */
    public int itemCount() {
        return items.size();
    }

    /** Commits the handle into the journal's open context and leaves the {@code nofs} scope. */
    @Override
    public void close() {
        if (closed) {
            throw new IllegalStateException("transaction on " + journal.name() + " committed twice");
        }
        closed = true;
        try {
            journal.commitHandle(items);
        } finally {
            try {
                while (!lockedBuffers.isEmpty()) {
                    lockedBuffers.pop().unlock();
                }
                buffers.forEach(Pages::free);
            } finally {
                nofs.close();
            }
        }
    }
}
