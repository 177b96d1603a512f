package dev.rescuer.storage.fs;

import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;

/**
 * The superblock shrinker of a {@link JournalFs} ({@code super_cache_count}/{@code super_cache_scan}
 * in {@code fs/super.c}): reclaims unused inodes through the inode cache.
 *
 * <p>Without {@code __GFP_FS} in the reclaiming context it stops at once ({@code SHRINK_STOP}), as
 * {@code super_cache_scan} does, so a transaction (in a {@code nofs} scope) or a page-cache
 * allocation of this filesystem (whose mapping is {@code GFP_NOFS}, as XFS sets it) never recurses
 * into it. With {@code __GFP_FS} it may force the log and wait for the push item
 * ({@code xfs_reclaim_inodes} → {@code xfs_iunpin_wait} → {@code xlog_cil_force_seq} →
 * {@code flush_work}), in whatever task is reclaiming: kswapd, a writer, or kthreadd allocating a new
 * worker's stack (seed 002); a second reclaimer counts the inode being reclaimed and waits behind the
 * first on the cache's reclaim lock. That is how kernels before XFS's 5.9 rework of inode reclaim behave;
 * current XFS skips pinned inodes in reclaim instead of waiting.
 */
final class SuperCacheShrinker implements Shrinker {

    private final JournalFs fs;

    SuperCacheShrinker(JournalFs fs) {
        this.fs = fs;
    }

    @Override
    public String name() {
        return "super_cache_scan " + fs.name();
    }

    @Override
    public long count(ShrinkControl control) {
        return fs.inodeCache().countReclaimable();
    }

    @Override
    public long scan(ShrinkControl control) {
        if (!control.gfp().mayFs()) {
            return STOP;
        }
        return fs.inodeCache().prune(control.nrToScan(), fs.journal());
    }
}
