package dev.rescuer.storage.kernfs;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A kernfs file node ({@code struct kernfs_node} with its {@code kernfs_open_node}): the event count
 * and poll wait queue that {@code kernfs_notify} kicks inline, and the fsnotify events that
 * {@code kernfs_notify_workfn} delivers later to inotify watchers.
 *
 * <p>Both waits are interruptible sleeps in the kernel ({@code poll_wait}, {@code inotify_read}), which
 * the hung-task detector does not report, so both queues are idle waits here.
 *
 * <p><b>The pending fsnotify.</b> From {@code kernfs_notify} listing the node until
 * {@code kernfs_notify_workfn} has queued its {@code FS_MODIFY} for the watchers, the node's change is undelivered:
 * only the notify item can tell its inotify watchers. {@link #pendingFsnotify()} is that event for
 * reports and the validator: its completer is the notify item while a change is undelivered,
 * {@code null} once every listed change was delivered.
 *
 * <p><b>Memory ordering.</b> A waker increments a counter, then wakes the queue; a waiter's condition
 * reads the counter, so the platform's no-lost-wake-up rule pairs the two. {@code undelivered} is
 * incremented by {@code kernfs_notify} under {@code kernfs_notify_lock} before the item is queued
 * (the queueing publishes it to the item) and decremented by the item once the event is counted,
 * before the wake-up; readers
 * (reports, a waiter's validator hook) read it racily, as {@link HandedOnEvent} allows.
 */
public final class KernfsNode {

    private final String path;
    private final AtomicLong event = new AtomicLong();
    private final AtomicLong fsnotifyEvents = new AtomicLong();
    private final WaitQueue poll;
    private final WaitQueue inotify;
    /** Whether the node is on the notify list ({@code attr.notify_next}). Guarded by kernfs_notify_lock. */
    boolean notifyNext;
    /** Changes listed by {@code kernfs_notify} whose fsnotify was not yet sent. Atomic; incremented under kernfs_notify_lock. */
    private final AtomicInteger undelivered = new AtomicInteger();
    private final HandedOnEvent pendingFsnotify;

    KernfsNode(Platform platform, String path, Work notifyWork) {
        this.path = path;
        this.pendingFsnotify = new HandedOnEvent() {
            @Override
            public Object completer() {
                return undelivered.get() > 0 ? notifyWork : null;
            }

            @Override
            public String describe() {
                return "fsnotify(FS_MODIFY " + path + ")" + (undelivered.get() > 0 ? ", queued by kernfs_notify to" : ", delivered");
            }

            @Override
            public String toString() {
                return "fsnotify(FS_MODIFY " + path + ")";
            }
        };
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

    /**
     * The delivery of this node's changes to its inotify watchers, as a {@link HandedOnEvent}: its
     * completer is {@code kernfs_notify_workfn}'s item from {@code kernfs_notify} until the item has
     * sent every listed change, then {@code null}. For reports only; nothing reads it to decide.
     */
    public HandedOnEvent pendingFsnotify() {
        return pendingFsnotify;
    }

    /** Whether a change listed by {@code kernfs_notify} has not yet been sent to the inotify watchers. */
    public boolean fsnotifyPending() {
        return undelivered.get() > 0;
    }

    /**
     * {@code kernfs_notify} listed the node (it was not listed): one more listing for the item to
     * deliver; a change made while the node is listed rides on that listing. Under kernfs_notify_lock.
     */
    void listed() {
        undelivered.incrementAndGet();
    }

    void kickPoll() {
        event.incrementAndGet();
        poll.wakeUpAll();
    }

    /**
     * Sends {@code FS_MODIFY} to the watchers: once the event is queued for them (the count their
     * condition reads) the listing the item popped is delivered, and they are woken.
     */
    void fsnotifyModify() {
        fsnotifyEvents.incrementAndGet();
        undelivered.decrementAndGet();
        inotify.wakeUpAll();
    }

    @Override
    public String toString() {
        return path;
    }
}
