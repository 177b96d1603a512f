package dev.rescuer.storage.block;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * A pool of bios with a reserve ({@code struct bio_set}, {@code block/bio.c}): a {@link Mempool} whose
 * elements stand for the bios' memory (one page each, from the system's {@link PageAllocator}), and,
 * with {@link #BIOSET_NEED_RESCUER}, a {@code MEM_RECLAIM} "bioset" workqueue that submits bios
 * punted to it.
 *
 * <p><b>Why the rescuer.</b> A device that allocates bios inside its {@code submitBio} submits them
 * onto the task's {@code bio_list} ({@link BlockLayer}), where they wait until that {@code submitBio}
 * returns. If it then allocates a second bio from the same pool and the pool is empty, the element it
 * waits for is held by a bio that cannot be dispatched before it stops waiting. {@link #alloc} does
 * what {@code bio_alloc_bioset} does: while the task has bios queued, it first tries without direct
 * reclaim; if that fails, {@code punt_bios_to_rescuer} moves this set's queued bios to the rescuer
 * work, which submits them from its own task, and only then does the allocation block.
 *
 * <p>Left out on purpose: bvec pools, front padding and the per-CPU bio cache. Clearing
 * {@code __GFP_DIRECT_RECLAIM} is modelled by {@link Gfp#NOWAIT}, the one non-sleeping context core
 * exposes.
 */
public final class BioSet {

    /** Create a rescuer workqueue for this set ({@code BIOSET_NEED_RESCUER}). */
    public static final int BIOSET_NEED_RESCUER = 1;

    private final String name;
    private final Platform platform;
    private final Mempool<Pages> pool;
    /** The rescuer queue ({@code rescue_workqueue}), or {@code null}. */
    private final WorkQueue rescueWorkqueue;
    private final Work rescueWork;
    private final SpinLock rescueLock;
    /** Bios punted to the rescuer. Guarded by {@link #rescueLock}. */
    private final BioList rescueList = new BioList();

    /**
     * A bio set of {@code poolSize} reserved bios ({@code bioset_init}).
     *
     * @param workqueues where the rescuer queue is created when {@code flags} has
     *     {@link #BIOSET_NEED_RESCUER}; may be {@code null} otherwise
     * @throws IllegalArgumentException for a pool size below 1, or a rescuer without workqueues
     */
    public BioSet(PageAllocator pages, Workqueues workqueues, String name, int poolSize, int flags) {
        this.name = Objects.requireNonNull(name, "name");
        this.platform = pages.platform();
        this.pool = Mempool.ofPages(pages, "bioset " + name, poolSize, 1);
        this.rescueLock = new SpinLock(platform, name + "/rescue_lock", "&bs->rescue_lock");
        if ((flags & BIOSET_NEED_RESCUER) != 0) {
            if (workqueues == null) {
                throw new IllegalArgumentException("bioset " + name + ": BIOSET_NEED_RESCUER needs workqueues");
            }
            this.rescueWorkqueue = workqueues.create("bioset/" + name, 0, WqFlag.MEM_RECLAIM);
            this.rescueWork = new Work("bio_alloc_rescue " + name, this::bioAllocRescue);
        } else {
            this.rescueWorkqueue = null;
            this.rescueWork = null;
        }
    }

    /** The set's name. */
    public String name() {
        return name;
    }

    /** The rescuer queue, or {@code null} without {@link #BIOSET_NEED_RESCUER}. */
    public WorkQueue rescueWorkqueue() {
        return rescueWorkqueue;
    }

    /** Bios allocated and not yet freed. */
    public int outstanding() {
        return pool.outstanding();
    }

    /**
     * Allocates a bio ({@code bio_alloc_bioset}). With a context that may sleep it never fails: it
     * waits for a bio to be freed, after punting this set's bios queued on the task's
     * {@code bio_list} to the rescuer (see the class comment).
     *
     * @return the bio, or {@code null} only when {@code gfp} may not sleep and none was available
     */
    public Bio alloc(BioOp op, int reqFlags, BlockDevice device, long sector, int sizeBytes, Consumer<Bio> endIo,
                     String origin, Gfp gfp) {
        Gfp saved = gfp;
        BlockLayer.PendingBios lists = BlockLayer.currentBioList(platform);
        if (lists != null && (!lists.current.isEmpty() || !lists.saved.isEmpty()) && rescueWorkqueue != null
                && gfp.mayDirectReclaim()) {
            gfp = Gfp.NOWAIT; // gfp_mask &= ~__GFP_DIRECT_RECLAIM
        }
        Pages p = pool.allocate(gfp);
        if (p == null && gfp != saved) {
            puntBiosToRescuer(lists);
            p = pool.allocate(saved);
        }
        if (p == null) {
            return null;
        }
        Bio bio = new Bio(op, reqFlags, device, sector, sizeBytes, null, endIo, origin);
        bio.setPool(this, p);
        return bio;
    }

    /** Gives a bio allocated here back ({@code bio_put} of the last reference). Never sleeps. */
    public void free(Bio bio) {
        if (bio.pool() != this) {
            throw new IllegalArgumentException(bio + " does not belong to bio set " + name);
        }
        Object element = bio.poolElement;
        if (element == null) {
            throw new IllegalStateException(bio + " was already freed to bio set " + name);
        }
        bio.poolElement = null;
        pool.free((Pages) element);
    }

    /**
     * Records that {@code bio}, allocated here, is handed on (dispatched to its device, or a clone
     * given to its target's {@code map}), which ends it without needing this set: its allocator no
     * longer holds the element ({@link Mempool#handOn}), so a later allocation by the same task is not
     * a nested wait. Idempotent.
     *
     * @throws IllegalStateException if {@code bio} is not an allocated bio of this set
     */
    public void handOn(Bio bio) {
        Object element = bio.poolElement;
        if (bio.pool() != this || element == null) {
            throw new IllegalStateException(bio + " is not an allocated bio of bio set " + name);
        }
        pool.handOn((Pages) element);
    }

    /** {@code punt_bios_to_rescuer}: moves this set's bios off both of the task's lists to the rescuer. */
    private void puntBiosToRescuer(BlockLayer.PendingBios lists) {
        BioList punt = new BioList();
        for (BioList list : new BioList[] {lists.current, lists.saved}) {
            BioList nopunt = new BioList();
            for (Bio bio; (bio = list.pop()) != null; ) {
                (bio.pool() == this ? punt : nopunt).add(bio);
            }
            list.merge(nopunt);
        }
        if (punt.isEmpty()) {
            return;
        }
        rescueLock.lock();
        try {
            rescueList.merge(punt);
        } finally {
            rescueLock.unlock();
        }
        rescueWorkqueue.queue(rescueWork);
    }

    /** {@code bio_alloc_rescue}: submits the punted bios from the rescuer queue's task. */
    private void bioAllocRescue() {
        while (true) {
            Bio bio;
            rescueLock.lock();
            try {
                bio = rescueList.pop();
            } finally {
                rescueLock.unlock();
            }
            if (bio == null) {
                return;
            }
            BlockLayer.submitBioNoacct(bio);
        }
    }

    @Override
    public String toString() {
        return "bioset " + name;
    }
}
