package dev.rescuer.storage.fs;

import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.sync.WaitQueue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The in-core inodes of one filesystem ({@code inode_hashtable} and the superblock's
 * {@code s_inode_lru}): lookup by number, reference counts, and the LRU of unused inodes that
 * {@link SuperCacheShrinker} reclaims.
 *
 * <p><b>Reclaim of one inode</b> ({@code prune_icache_sb} → {@code evict} →
 * {@code xfs_reclaim_inode}): only an unused inode with no dirty or writeback pages is taken; it
 * leaves the hash at once (a lookup of the same number waits until it is gone, as {@code xfs_iget}
 * retries on an inode in reclaim); its clean pages are dropped; if it is pinned, the log is forced
 * and reclaim waits until it is unpinned ({@code xfs_iunpin_wait}); then its memory is freed.
 *
 * <p><b>One reclaimer at a time.</b> {@link #prune} holds {@code reclaimLock}
 * ({@code pag->pag_ici_reclaim_lock}; the model has one allocation group) for its whole walk,
 * including the log force. A second reclaimer sleeps on it: {@code xfs_reclaim_inodes_ag} (before
 * XFS's 5.9 rework, seed 002's kernel) first skips a contended group with {@code mutex_trylock}, and
 * with {@code SYNC_WAIT}, which {@code super_cache_scan} passes, restarts with {@code mutex_lock} "so
 * that when we get more reclaimers than AGs we block rather than spin". So every task in filesystem
 * reclaim waits behind the one forcing the log.
 *
 * <p><b>Locking.</b> {@code lock} ({@code inode_hash_lock} with the LRU's lock) guards
 * {@code hash}, {@code lru}, changes of {@code freeing} and every inode's {@code refCount} and {@code onLru}.
 * It is taken before the page cache's lock (checking an inode's pages), never inside it, and is never
 * held while sleeping. {@code reclaimLock} is a sleeping lock taken outside {@code lock}, held across
 * the log force.
 */
final class InodeCache {

    private final SpinLock lock;
    private final WaitQueue freeingWait;
    private final Mutex reclaimLock;
    private final Map<Long, Inode> hash = new HashMap<>();           // Guarded by lock
    private final LinkedHashSet<Inode> lru = new LinkedHashSet<>();  // Guarded by lock
    /** Inodes being reclaimed; written under lock, read lock-free by waiters' conditions. */
    private final Set<Long> freeing = ConcurrentHashMap.newKeySet();

    InodeCache(JournalFs fs) {
        this.lock = new SpinLock(fs.platform(), fs.name() + "/inode_hash_lock", "inode_hash_lock");
        this.freeingWait = new WaitQueue(fs.platform(), fs.name() + "/inode_freeing", "inode_freeing");
        this.reclaimLock = new Mutex(fs.platform(), fs.name() + "/pag_ici_reclaim_lock", "pag_ici_reclaim_lock");
    }

    /**
     * The cached inode {@code ino} with one more reference, or one built by {@code load} (which may
     * sleep: it allocates and reads) when it is not cached. Waits while the inode is being reclaimed.
     */
    Inode iget(long ino, Function<Long, Inode> load) {
        while (true) {
            lock.lock();
            boolean busy;
            try {
                Inode cached = hash.get(ino);
                if (cached != null) {
                    grabLocked(cached);
                    return cached;
                }
                busy = freeing.contains(ino);
            } finally {
                lock.unlock();
            }
            if (busy) {
                freeingWait.waitEvent(() -> !freeing.contains(ino));
                continue;
            }
            Inode fresh = load.apply(ino);
            lock.lock();
            try {
                Inode raced = hash.get(ino);
                if (raced == null && !freeing.contains(ino)) {
                    hash.put(ino, fresh);
                    fresh.refCount = 1;
                    return fresh;
                }
            } finally {
                lock.unlock();
            }
            fresh.memory.free(); // lost the race; its mapping is still empty
        }
    }

    private void grabLocked(Inode inode) {
        inode.refCount++;
        if (inode.onLru) {
            lru.remove(inode);
            inode.onLru = false;
        }
    }

    /** Drops a reference ({@code iput}); an unused inode goes to the LRU tail, still cached. */
    void iput(Inode inode) {
        lock.lock();
        try {
            if (inode.refCount <= 0) {
                throw new IllegalStateException("iput of " + inode + ", which has no references");
            }
            if (--inode.refCount == 0) {
                lru.add(inode);
                inode.onLru = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Unused inodes ({@code list_lru_shrink_count}). */
    long countUnused() {
        lock.lock();
        try {
            return lru.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * What the shrinker counts: the unused inodes plus those being reclaimed, which XFS still counts
     * until they are freed ({@code xfs_reclaim_inodes_count} reads {@code pag_ici_reclaimable},
     * dropped only by {@code xfs_reclaim_inode}), so a second reclaimer scans and waits on
     * {@code reclaimLock} instead of finding nothing.
     */
    long countReclaimable() {
        lock.lock();
        try {
            return lru.size() + freeing.size();
        } finally {
            lock.unlock();
        }
    }

    /** Every cached inode, a snapshot. */
    List<Inode> cached() {
        lock.lock();
        try {
            return new ArrayList<>(hash.values());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reclaims up to {@code nr} unused inodes as described above, under {@code reclaimLock}; may
     * sleep on the lock and on the log.
     *
     * @return objects freed: inodes plus the clean pages dropped with them
     */
    long prune(long nr, Journal journal) {
        reclaimLock.lock();
        try {
            return pruneLocked(nr, journal);
        } finally {
            reclaimLock.unlock();
        }
    }

    private long pruneLocked(long nr, Journal journal) {
        List<Inode> victims = new ArrayList<>();
        lock.lock();
        try {
            Iterator<Inode> it = lru.iterator();
            while (victims.size() < nr && it.hasNext()) {
                Inode inode = it.next();
                if (inode.mapping().hasDirtyOrWriteback()) {
                    continue; // I_DIRTY / I_SYNC: not reclaimable now
                }
                it.remove();
                inode.onLru = false;
                hash.remove(inode.ino());
                freeing.add(inode.ino());
                victims.add(inode);
            }
        } finally {
            lock.unlock();
        }
        long freed = 0;
        for (Inode inode : victims) {
            try {
                freed += inode.mapping().invalidateMappingPages();
                if (journal != null) {
                    journal.iunpinWait(inode);
                }
                inode.memory.free();
                freed++;
            } finally {
                lock.lock();
                try {
                    freeing.remove(inode.ino());
                } finally {
                    lock.unlock();
                }
                freeingWait.wakeUpAll();
            }
        }
        return freed;
    }
}
