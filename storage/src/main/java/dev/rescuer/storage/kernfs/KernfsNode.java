package dev.rescuer.storage.kernfs;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.WaitQueue;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A kernfs file node ({@code struct kernfs_node} with its {@code kernfs_open_node}): the event count
 * and poll wait queue that {@code kernfs_notify} kicks inline, and the fsnotify events that
 * {@code kernfs_notify_workfn} delivers later to inotify watchers.
 *
 * <p>Both waits are interruptible sleeps in the kernel ({@code poll_wait}, {@code inotify_read}), which
 * the hung-task detector does not report, so both queues are idle waits here.
 *
 * <p><b>Memory ordering.</b> A waker increments a counter, then wakes the queue; a waiter's condition
 * reads the counter, so the platform's no-lost-wake-up rule pairs the two.
 */
public final class KernfsNode {

    private final String path;
    private final AtomicLong event = new AtomicLong();
    private final AtomicLong fsnotifyEvents = new AtomicLong();
    private final WaitQueue poll;
    private final WaitQueue inotify;
    /** Whether the node is on the notify list ({@code attr.notify_next}). Guarded by kernfs_notify_lock. */
    boolean notifyNext;

    KernfsNode(Platform platform, String path) {
        this.path = path;
        this.poll = WaitQueue.idle(platform, path + "/poll", "&on->poll");
        this.inotify = WaitQueue.idle(platform, path + "/inotify", "&group->notification_waitq");
    }

    /** The file's path under sysfs ({@code md0/md/array_state}). */
    public String path() {
        return path;
    }

    /** The poll event count ({@code on->event}), what a poller compares against what it last saw. */
    public long event() {
        return event.get();
    }

    /** The number of fsnotify {@code FS_MODIFY} events delivered so far. */
    public long fsnotifyEvents() {
        return fsnotifyEvents.get();
    }

    /** Sleeps in {@code poll} until the event count differs from {@code seen}; returns the new count. */
    public long pollWait(long seen) {
        poll.waitEvent(() -> event.get() != seen);
        return event.get();
    }

    /** Sleeps in {@code read} of an inotify fd until more than {@code seen} events were delivered; returns the count. */
    public long inotifyWait(long seen) {
        inotify.waitEvent(() -> fsnotifyEvents.get() != seen);
        return fsnotifyEvents.get();
    }

    /** The poll wait queue. */
    public WaitQueue pollQueue() {
        return poll;
    }

    /** The inotify wait queue. */
    public WaitQueue inotifyQueue() {
        return inotify;
    }

    void kickPoll() {
        event.incrementAndGet();
        poll.wakeUpAll();
    }

    void fsnotifyModify() {
        fsnotifyEvents.incrementAndGet();
        inotify.wakeUpAll();
    }

    @Override
    public String toString() {
        return path;
    }
}
