package dev.rescuer.storage.md;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.storage.kernfs.KernfsNode;

/**
 * The superblock change an array with external metadata waits for on {@code sb_wait}, as a
 * {@link HandedOnEvent} naming who must act for it now; the array's {@code sb_wait} owner while an
 * {@link Mdmon} manages the array.
 *
 * <p>The hand-off it records is md's own. The first write to a clean array sets
 * {@code MD_SB_CHANGE_PENDING} ({@code md_write_start}, under {@code mddev->lock}) and calls
 * {@code sysfs_notify_dirent_safe(mddev->sysfs_state)}, i.e. {@code kernfs_notify} on
 * {@code array_state}; with external metadata nothing in the kernel clears the flag: only user space
 * does, by writing {@code active} ({@code array_state_store}); {@code md_update_sb}, for an array
 * that is not {@code persistent}, clears only {@code MD_SB_CHANGE_CLEAN} and {@code MD_SB_CHANGE_DEVS}
 * when the metadata is external, and wakes {@code sb_wait}. The notification reaches only a
 * watcher that exists when it is sent: {@code kernfs_notify} kicks the pollers it finds, and
 * {@code kernfs_notify_workfn} sends {@code FS_MODIFY} to the inotify marks the node's inode has then;
 * a mdmon that starts later reads {@code array_state} itself before it first sleeps. So, one rule
 * that {@link #completer()} and {@link #describe()} both follow:
 * <ul>
 *   <li>once the flag is clear, {@code null}: nothing is pending;
 *   <li>while the flag is set and mdmon has not started, {@code null} too, described as waiting for
 *       mdmon's start: no watcher exists, so a notify item still queued would tell nobody;
 *   <li>while the flag is set and mdmon sleeps in an inotify watch ({@link Mdmon.Wakeup#FSNOTIFY}) and
 *       the node's change is not yet delivered, the node's {@link KernfsNode#pendingFsnotify()}, i.e.
 *       {@code kernfs_notify_workfn}'s item: mdmon learns of the change only when the item has sent
 *       {@code FS_MODIFY};
 *   <li>while the flag is set otherwise (the change delivered, or mdmon polling, which
 *       {@code kernfs_notify} kicks inline), mdmon's task.
 * </ul>
 * A mdmon that is awake anyway may read {@code write-pending} and clear the flag before the item
 * runs; the owner says what the writer handed the change to, as a bio's owner does.
 *
 * <p>{@code md_flush_request} waits on the same queue (and class) for the array's flush slot; that
 * wait is released by the slot's holder, whose data part waits in {@code md_write_start} for this
 * change in turn, so the owner is no new dependency of the class for it.
 *
 * <p>For reports and the validator only: read while the world is frozen or racily; nothing reads it
 * to decide.
 */
final class PendingSbChange implements HandedOnEvent {

    private final Mddev array;
    private final Mdmon mdmon;
    private final boolean inotify;

    PendingSbChange(Mddev array, Mdmon mdmon, boolean inotify) {
        this.array = array;
        this.mdmon = mdmon;
        this.inotify = inotify;
    }

    /** Where the change stands now, by the rule above; {@link #completer()} and {@link #describe()} both read it. */
    private enum Stage {
        NONE_PENDING, MDMON_NOT_STARTED, UNDELIVERED_TO_WATCH, WITH_MDMON
    }

    private Stage stage() {
        if (!array.testSbFlag(Mddev.MD_SB_CHANGE_PENDING)) {
            return Stage.NONE_PENDING;
        }
        if (mdmon.task() == null) {
            return Stage.MDMON_NOT_STARTED;
        }
        return inotify && array.sysfsState().fsnotifyPending() ? Stage.UNDELIVERED_TO_WATCH : Stage.WITH_MDMON;
    }

    @Override
    public Object completer() {
        return switch (stage()) {
            case NONE_PENDING, MDMON_NOT_STARTED -> null; // describe() says which
            case UNDELIVERED_TO_WATCH -> array.sysfsState().pendingFsnotify();
            case WITH_MDMON -> mdmon.task();
        };
    }

    @Override
    public String describe() {
        return switch (stage()) {
            case NONE_PENDING -> array.name() + " superblock change: none pending";
            case MDMON_NOT_STARTED -> array.name() + " MD_SB_CHANGE_PENDING, for mdmon, not started";
            case UNDELIVERED_TO_WATCH -> array.name() + " MD_SB_CHANGE_PENDING, handed by sysfs_notify_dirent_safe to mdmon's inotify watch:";
            case WITH_MDMON -> array.name() + " MD_SB_CHANGE_PENDING, cleared by array_state_store(active) from";
        };
    }

    @Override
    public String toString() {
        return array.name() + " MD_SB_CHANGE_PENDING";
    }
}
