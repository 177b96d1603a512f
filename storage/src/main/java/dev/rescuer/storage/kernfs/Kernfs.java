package dev.rescuer.storage.kernfs;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.SpinLock;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;

import java.util.ArrayDeque;

/**
 * One system's kernfs ({@code fs/kernfs/file.c}) with one root (sysfs): {@code kernfs_notify}, the
 * notify list and its single work item, and the root's {@code kernfs_supers_rwsem}.
 *
 * <p><b>kernfs_notify.</b> {@link #kernfsNotify} does what the kernel does: it kicks the file's
 * pollers at once ({@code atomic_inc(&on->event); wake_up_interruptible(&on->poll)}), then puts the
 * node on the notify list and queues {@code kernfs_notify_work} if the node was not already listed.
 * {@code kernfs_notify_workfn} pops nodes one at a time and, under {@code kernfs_supers_rwsem} held
 * for read, sends the fsnotify event ({@code fsnotify_inode(FS_MODIFY)}) to every watcher of the file.
 * So a task that waits in {@code poll}/{@code select} does not depend on the work item; one that waits
 * for an inotify event does: from the listing until the delivery, the node's
 * {@link KernfsNode#pendingFsnotify()} names the item as the one to complete it.
 *
 * <p><b>The queue</b> is a setting ({@link NotifyQueue}): {@code system_wq}, as upstream
 * ({@code schedule_work}), or a dedicated {@code kernfs_wq}
 * ({@code alloc_workqueue("kernfs", WQ_MEM_RECLAIM, 0)}), as Junxiao Bi's 2023 patch proposed (never
 * merged).
 *
 * <p>Left out: the open-file tracking ({@code kernfs_open_node} lifetime), reference counting of
 * nodes, several roots and superblocks (one root, one notional superblock).
 *
 * <p><b>Locking.</b> {@link #notifyLock} ({@code kernfs_notify_lock}) guards the notify list and each
 * node's {@code notify_next} mark; the work item pops under it and sends the event outside it.
 */
public final class Kernfs {

    /** Where {@code kernfs_notify_work} is queued. */
    public enum NotifyQueue {
        /** {@code schedule_work}: the shared {@code system_wq}, no rescuer (upstream). */
        SYSTEM_WQ,
        /** A dedicated {@code kernfs_wq} with {@code WQ_MEM_RECLAIM}, so with a rescuer (Junxiao's patch). */
        KERNFS_WQ
    }

    private final Platform platform;
    private final RwSemaphore supersRwsem;
    private final SpinLock notifyLock;
    private final ArrayDeque<KernfsNode> notifyList = new ArrayDeque<>(); // Guarded by notifyLock
    private final Work notifyWork;
    private final WorkQueue wq;

    /** A kernfs whose notify work goes on {@code queue}; creates {@code kernfs_wq} if asked. */
    public Kernfs(Workqueues workqueues, NotifyQueue queue) {
        this.platform = workqueues.platform();
        this.supersRwsem = new RwSemaphore(platform, "sysfs/kernfs_supers_rwsem", "&root->kernfs_supers_rwsem");
        this.notifyLock = new SpinLock(platform, "kernfs_notify_lock", "kernfs_notify_lock");
        this.notifyWork = new Work("kernfs_notify_workfn", this::kernfsNotifyWorkfn);
        this.wq = queue == NotifyQueue.SYSTEM_WQ ? workqueues.systemWq()
                : workqueues.create("kernfs", 0, WqFlag.MEM_RECLAIM);
    }

    /** A regular file node at {@code path} that user space can poll or watch. */
    public KernfsNode createFile(String path) {
        return new KernfsNode(platform, path, notifyWork);
    }

    /** The root's {@code kernfs_supers_rwsem}: write-held while a superblock of the root is set up or torn down. */
    public RwSemaphore supersRwsem() {
        return supersRwsem;
    }

    /** The queue the notify item goes on. */
    public WorkQueue notifyQueue() {
        return wq;
    }

    /** The single notify item ({@code kernfs_notify_work}). */
    public Work notifyWork() {
        return notifyWork;
    }

    /**
     * {@code kernfs_notify}: wakes the file's pollers now and queues the fsnotify half. Never sleeps,
     * so it may be called from any context, as md calls it (through {@code sysfs_notify_dirent_safe})
     * under no lock from {@code md_write_start}.
     */
    public void kernfsNotify(KernfsNode kn) {
        kn.kickPoll();
        boolean queue;
        notifyLock.lock();
        try {
            queue = !kn.notifyNext;
            if (queue) {
                kn.notifyNext = true;
                kn.listed();
                notifyList.add(kn);
            }
        } finally {
            notifyLock.unlock();
        }
        if (queue) {
            wq.queue(notifyWork);
        }
    }

    /** {@code kernfs_notify_workfn}: for each listed node, {@code down_read(kernfs_supers_rwsem)}, fsnotify, {@code up_read}. */
    private void kernfsNotifyWorkfn() {
        while (true) {
            KernfsNode kn;
            notifyLock.lock();
            try {
                kn = notifyList.poll();
                if (kn == null) {
                    return;
                }
                kn.notifyNext = false;
            } finally {
                notifyLock.unlock();
            }
            supersRwsem.downRead();
            try {
                kn.fsnotifyModify();
            } finally {
                supersRwsem.upRead();
            }
        }
    }
}
