package dev.rescuer.storage.fs;

import dev.rescuer.core.mm.MemallocScope;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A transaction handle ({@code handle_t} from {@code jbd2_journal_start}, {@code struct xfs_trans}).
 * From {@link Journal#start()} to {@link #close()} the task is in a {@code nofs} memalloc scope, as
 * {@code start_this_handle} does with {@code memalloc_nofs_save}: no allocation made while the
 * handle is open can recurse into a filesystem's reclaim, which might wait for this very
 * transaction to commit. Closing ({@code jbd2_journal_stop}, {@code xfs_trans_commit}) adds the
 * logged items to the journal's open context and restores the scope.
 *
 * <p>A handle belongs to the task that started it; closing it from another task, twice, or out of
 * order with other scopes throws.
 */
public final class Handle implements AutoCloseable {

    private final Journal journal;
    private final MemallocScope nofs;
    private final Map<Inode, Long> items = new LinkedHashMap<>(); // owned by the handle's task
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
            nofs.close();
        }
    }
}
