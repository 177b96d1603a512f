package dev.rescuer.storage.md;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.kernfs.KernfsNode;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * mdmon (mdadm's {@code monitor.c}), the IMSM metadata daemon of one container (here holding one
 * array), as a <b>user-space</b> task: no {@code PF_MEMALLOC}, no GFP scope, its memory faults are ordinary {@code GFP_KERNEL}-class
 * allocations with direct reclaim. It waits for a change of its array's {@code array_state}, reads
 * it, and for an array in {@code write-pending} writes the metadata (marking the array dirty) to every
 * member, then writes {@code active} to {@code array_state}, which clears
 * {@code MD_SB_CHANGE_PENDING}.
 *
 * <p>Two settings a user has:
 * <ul>
 *   <li>{@link Memory}: whether handling an event faults in or allocates memory
 *       ({@link Memory#ALLOCATES}: {@link #FAULT_PAGES} pages per event unless told otherwise, standing for page faults,
 *       a {@code task_work}, a buffer) or everything was locked in advance ({@code mlockall}, {@link Memory#MLOCKED}).
 *   <li>{@link Wakeup}: how it waits: {@code select}/{@code poll} on the sysfs files (what mdmon's
 *       {@code wait_and_act} does; kicked inline by {@code kernfs_notify}) or an inotify watch
 *       (delivered by {@code kernfs_notify_workfn}, so it depends on the notify work item).
 * </ul>
 *
 * <p><b>For reports and the validator</b>, mdmon makes itself the array's superblock clearer: the
 * array's {@code sb_wait} is owned by a {@link PendingSbChange}, which names the kernfs notify item
 * while the change is not yet delivered to an inotify-watching mdmon, then mdmon's task.
 *
 * <p>Left out: the manager thread, spare activation, resync checkpoints, the metadata content (one
 * block per member, at the end).
 */
public final class Mdmon {

    /** Whether mdmon's event handling allocates memory. */
    public enum Memory {
        /** Faults in or allocates {@link #FAULT_PAGES} pages per event, with direct reclaim. */
        ALLOCATES,
        /** {@code mlockall} and pre-allocated buffers: no allocation after start. */
        MLOCKED
    }

    /** What mdmon sleeps in between events. */
    public enum Wakeup {
        /** {@code select}/{@code poll} on {@code array_state}: woken by {@code kernfs_notify} itself. */
        POLL,
        /** An inotify watch on {@code array_state}: woken by {@code kernfs_notify_workfn}. */
        FSNOTIFY
    }

    /**
     * Pages one event's handling faults in with {@link Memory#ALLOCATES} unless the constructor is
     * given another count: its stack, the metadata buffer, the heap and text pages touched, after
     * reclaim took them from an idle daemon.
     */
    public static final int FAULT_PAGES = 4;

    /**
     * A user page fault's allocation. The kernel never fails it back to the task: a fault that gets
     * {@code VM_FAULT_OOM} calls {@code pagefault_out_of_memory} and the task takes the fault again.
     * The model has no OOM killer, so that loop is {@code __GFP_NOFAIL} on a {@code GFP_KERNEL}
     * context ({@code GFP_HIGHUSER_MOVABLE} reclaims like {@code GFP_KERNEL}).
     */
    static final Gfp USER_FAULT = Gfp.KERNEL.with(Gfp.Modifier.NOFAIL);

    private final Mddev array;
    private final PageAllocator pages;
    private final Memory memory;
    private final Wakeup wakeup;
    private final int faultPages;
    private final AtomicInteger metadataUpdates = new AtomicInteger();
    private volatile Task task;

    /**
     * mdmon for the container holding {@code array}; not yet running.
     *
     * @throws IllegalArgumentException if the array's metadata is managed by the kernel
     */
    public Mdmon(Mddev array, PageAllocator pages, Memory memory, Wakeup wakeup) {
        this(array, pages, memory, wakeup, FAULT_PAGES);
    }

    /**
     * mdmon for the container holding {@code array} that faults in {@code faultPages} pages per event
     * when it {@link Memory#ALLOCATES}; not yet running.
     *
     * <p>Makes itself the one that completes the array's pending superblock change: the array's
     * {@code sb_wait} is owned by a {@link PendingSbChange} naming this daemon (or, while the change
     * is not yet delivered to its inotify watch, {@code kernfs_notify_workfn}'s item).
     *
     * @throws IllegalArgumentException if the array's metadata is managed by the kernel,
     *     {@code faultPages < 1}, or the array already has a monitor
     */
    public Mdmon(Mddev array, PageAllocator pages, Memory memory, Wakeup wakeup, int faultPages) {
        if (faultPages < 1) {
            throw new IllegalArgumentException("mdmon for " + array.name() + ": fault pages must be >= 1, got " + faultPages);
        }
        if (!array.external()) {
            throw new IllegalArgumentException("mdmon monitors arrays with external metadata; " + array.name() + " has in-kernel metadata");
        }
        if (array.sbWait().owner() != null) {
            throw new IllegalArgumentException("mdmon for " + array.name() + ": the array already has a monitor (one mdmon per array)");
        }
        this.array = array;
        this.pages = pages;
        this.memory = memory;
        this.wakeup = wakeup;
        this.faultPages = faultPages;
        array.sbWait().setOwner(new PendingSbChange(array, this, wakeup == Wakeup.FSNOTIFY));
    }

    /**
     * Declares who waits on whom: the array's {@code sb_wait} waits on this daemon (with external
     * metadata only its {@code array_state} write clears {@code MD_SB_CHANGE_PENDING}), a user-space
     * task ({@code mdmon/ARRAY}), which the analyzer reports when reclaim or I/O can reach it; the
     * daemon writes its metadata to the members, is woken through the notify queue when it sleeps in
     * an inotify watch ({@code kernfs_notify_workfn} on {@code notifyQueue}), and with {@link Memory#ALLOCATES} may enter
     * direct reclaim ({@link WaitGraph#VMSCAN}). The array and its members must be declared
     * ({@link Mddev#declareWaits}).
     */
    public void declareWaits(WaitGraph g, WorkQueue notifyQueue) {
        String me = "mdmon/" + array.name();
        g.node(me, WaitGraph.NodeKind.TASK);
        g.waitsOn(Mddev.sbWaitPoint(array.name()), me, "external metadata: only mdmon's array_state_store(active) clears MD_SB_CHANGE_PENDING");
        for (BlockDevice rdev : array.mirrors()) {
            g.waitsOn(me, rdev.name(), "mdmon writes its metadata to " + rdev.name());
        }
        if (wakeup == Wakeup.FSNOTIFY) {
            g.queue(notifyQueue);
            g.waitsOn(me, notifyQueue.name(), "mdmon sleeps in an inotify watch on array_state: kernfs_notify_workfn on "
                    + notifyQueue.name() + " wakes it");
        }
        if (memory == Memory.ALLOCATES) {
            g.node(WaitGraph.VMSCAN, WaitGraph.NodeKind.RECLAIM);
            g.waitsOn(me, WaitGraph.VMSCAN, "mdmon faults its pages in: direct reclaim");
        }
    }

    /** Starts the daemon's task ({@code mdmon --all} at boot). */
    public Task start() {
        Platform platform = array.platform();
        task = platform.startThread("mdmon/" + array.name(), this::run);
        return task;
    }

    /** The daemon's task, or {@code null} before {@link #start}. */
    public Task task() {
        return task;
    }

    /** How many metadata updates (write-pending → active) mdmon has completed. */
    public int metadataUpdates() {
        return metadataUpdates.get();
    }

    private void run() {
        KernfsNode kn = array.sysfsState();
        var queue = wakeup == Wakeup.POLL ? kn.pollQueue() : kn.inotifyQueue();
        while (true) {
            long seen = counter(kn);
            if ("write-pending".equals(array.arrayStateShow())) {
                handleWritePending(array);
            }
            queue.waitEvent(() -> counter(kn) != seen);
        }
    }

    private long counter(KernfsNode kn) {
        return wakeup == Wakeup.POLL ? kn.event() : kn.fsnotifyEvents();
    }

    private void handleWritePending(Mddev a) {
        if (memory == Memory.ALLOCATES) {
            Pages p = pages.allocate(faultPages, USER_FAULT);
            p.free();
        }
        for (BlockDevice rdev : a.mirrors()) {
            Mddev.writeMetadata(rdev, "mdmon imsm metadata " + a.name());
        }
        a.arrayStateStore("active");
        metadataUpdates.incrementAndGet();
    }
}
