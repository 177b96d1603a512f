package dev.rescuer.storage.fs;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.Mutex;

/**
 * One allocation group of a mounted {@link JournalFs} ({@code struct xfs_perag}), reduced to the
 * lock of its free-space header: the AGF buffer. Every block allocation in the group reads and locks
 * the AGF ({@code xfs_alloc_read_agf} from {@code xfs_alloc_fix_freelist}, under
 * {@code xfs_alloc_vextent}) and keeps it locked until its transaction commits, because the buffer
 * is joined to the transaction ({@code xfs_trans_read_buf}; {@code xfs_trans_commit} unlocks it).
 * So two allocations in one group, by any files, run one after the other, and a transaction that
 * sleeps while it holds the AGF (in reclaim, say) stops every allocation in that group.
 *
 * <p>In XFS the AGF lock is the buffer's semaphore ({@code xfs_buf_lock}: {@code down(&bp->b_sema)}),
 * which lockdep does not see. Here it is a {@link Mutex} of class {@code agf}, one instance per
 * group, so that hang reports name its holder and the validator sees it; the transaction that locks
 * it always unlocks it, as in the allocation paths modelled. Left out: the AGF's contents (free
 * space counts, btree roots), the AGFL and its refill, the AGI, and per-AG reservations.
 */
public final class AllocationGroup {

    /** The lock class of every group's AGF. */
    public static final String AGF_CLASS = "agf";

    /**
     * The group's number ({@code pag_agno}). As in XFS, where {@code pag_agno} is what names a group in
     * messages and traces, it names the group here: in its AGF lock's name ({@code DEVICE/agN/agf}),
     * which hang reports and validator reports print, and in {@link #toString()}. Callers that need
     * a group by number index the mount ({@link JournalFs#ag}), so there is no accessor.
     */
    private final int agno;
    private final Mutex agf;

    AllocationGroup(Platform platform, String fsName, int agno) {
        this.agno = agno;
        this.agf = new Mutex(platform, fsName + "/ag" + agno + "/agf", AGF_CLASS);
    }

    /** The AGF buffer's lock, for reports and tests. */
    public Mutex agf() {
        return agf;
    }

    @Override
    public String toString() {
        return "ag " + agno + " (" + agf.name() + ")";
    }
}
