package dev.rescuer.storage.block;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;

/**
 * The entry point of block I/O ({@code block/blk-core.c}): {@code submit_bio_noacct}, which turns the
 * recursion of stacked devices into iteration, and {@code submit_bio_wait}.
 *
 * <p><b>The two lists.</b> While a task is inside {@link #submitBioNoacct}, its {@code bio_list}
 * ({@link Task#bioList()}, here a {@link PendingBios}) is set. A bio submitted from inside a device's
 * {@code submitBio} (a mapped device passing a remapped bio down) is only appended to
 * {@link PendingBios#current}. When that {@code submitBio} returns, the bios it queued are sorted:
 * those for a lower device first, then those for the same device, then the ones that were pending
 * before the call ({@link PendingBios#saved}), and the loop takes the next one. So a stack of devices
 * never nests {@code submitBio} calls, and bios queued by one level reach the level below before the
 * level's siblings: the order {@code __submit_bio_noacct} guarantees since 5.9.
 *
 * <p>This is also what makes {@code BIOSET_NEED_RESCUER} necessary: a bio queued on the task's list
 * is not dispatched until the device's {@code submitBio} returns, so a device that blocks there (for
 * a mempool element that the queued bio would free) must punt the queued bios to a rescuer first.
 */
public final class BlockLayer {

    private BlockLayer() {
    }

    /**
     * The task's {@code bio_list_on_stack[2]}: {@link #current} collects what the running
     * {@code submitBio} submits, {@link #saved} holds what was pending when it was called.
     */
    public static final class PendingBios {
        /** Bios submitted by the running {@code submitBio} ({@code bio_list_on_stack[0]}). */
        public final BioList current = new BioList();
        /** Bios pending when the running {@code submitBio} was called ({@code bio_list_on_stack[1]}). */
        public final BioList saved = new BioList();

        private PendingBios() {
        }
    }

    /**
     * The current task's pending bios, or {@code null} when it is not inside {@link #submitBioNoacct}.
     */
    public static PendingBios currentBioList(Platform platform) {
        return (PendingBios) platform.currentTask().bioList();
    }

    /**
     * Submits {@code bio} to its device ({@code submit_bio_noacct}). From inside a device's
     * {@code submitBio} it only queues the bio on the task's list; otherwise it dispatches the bio and
     * everything the devices submit in turn, in the order described in the class comment, and returns
     * when all of them have been passed to their device's {@code submitBio} (not when they end).
     *
     * @throws IllegalArgumentException if the bio reaches past the end of its device
     */
    public static void submitBioNoacct(Bio bio) {
        checkBounds(bio);
        Platform platform = bio.device().platform();
        Task self = platform.currentTask();
        PendingBios lists = (PendingBios) self.bioList();
        if (lists != null) {
            bio.handTo(self);
            lists.current.add(bio);
            return;
        }
        lists = new PendingBios();
        self.setBioList(lists);
        try {
            do {
                BlockDevice device = bio.device();
                lists.saved.merge(lists.current);
                bio.handTo(device);
                if (bio.pool() != null) {
                    bio.pool().handOn(bio); // dispatched: its device, not its allocator, holds it now
                }
                device.submitBio(bio);
                BioList lower = new BioList();
                BioList same = new BioList();
                for (Bio queued; (queued = lists.current.pop()) != null; ) {
                    (queued.device() == device ? same : lower).add(queued);
                }
                lists.current.merge(lower);
                lists.current.merge(same);
                lists.current.merge(lists.saved);
            } while ((bio = lists.current.pop()) != null);
        } finally {
            self.setBioList(null);
        }
    }

    /**
     * Submits {@code bio} and sleeps until it ends ({@code submit_bio_wait}). The bio's end-io is
     * replaced; its status is returned.
     *
     * @throws IllegalStateException if called from inside a device's {@code submitBio}, where the bio
     *     could not be dispatched before the wait and the task would sleep forever
     */
    public static BlkStatus submitBioWait(Bio bio) {
        Platform platform = bio.device().platform();
        if (platform.currentTask().bioList() != null) {
            throw new IllegalStateException("submit_bio_wait of " + bio + " from inside submit_bio: "
                    + "the bio stays on the task's bio_list until submit_bio returns, so the wait never ends");
        }
        // Of the device's driver's class, as the kernel's is of the disk's lockdep map (see BlockDevice.driver).
        Completion done = new Completion(platform, "submit_bio_wait " + bio.origin(), "(bio completion)" + bio.device().driver());
        done.setOwner(bio); // the report follows the bio to whoever will end it
        bio.setEndIo(b -> done.complete());
        submitBioNoacct(bio);
        done.waitFor();
        return bio.status();
    }

    private static void checkBounds(Bio bio) {
        long capacity = bio.device().capacitySectors();
        if (bio.endSector() > capacity) {
            throw new IllegalArgumentException(bio + " reaches sector " + bio.endSector() + ", past the end of "
                    + bio.device().name() + " (" + capacity + " sectors)");
        }
    }
}
