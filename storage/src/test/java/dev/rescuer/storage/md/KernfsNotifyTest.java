package dev.rescuer.storage.md;

import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.kernfs.KernfsNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The kernfs notify path: {@code kernfs_notify} kicks pollers inline and queues
 * {@code kernfs_notify_work} on {@code system_wq} or on the dedicated {@code MEM_RECLAIM} queue;
 * {@code kernfs_notify_workfn} delivers fsnotify under {@code kernfs_supers_rwsem} held for read.
 * And mdmon: woken by either, it writes its metadata and clears the pending flag.
 */
class KernfsNotifyTest {

    @ParameterizedTest
    @EnumSource(Kernfs.NotifyQueue.class)
    void theNotifyItemGoesOnTheConfiguredQueue(Kernfs.NotifyQueue queue) {
        MdSim.assertCompletes("kernfs-queue-" + queue, queue, 20, env -> {
            var wq = env.kernfs().notifyQueue();
            env.ctx().invariant("the queue is " + queue, () -> queue == Kernfs.NotifyQueue.SYSTEM_WQ
                    ? wq == env.sys().workqueues().systemWq() && !wq.hasRescuer()
                    : wq.flags().contains(WqFlag.MEM_RECLAIM) && wq.hasRescuer() && wq != env.sys().workqueues().systemWq());
        });
    }

    /** Pollers are kicked by the call itself; inotify watchers only once the work item took the rwsem for read. */
    @Test
    void pollIsKickedInlineAndFsnotifyWaitsForTheRwsem() {
        MdSim.assertCompletes("kernfs-notify", Kernfs.NotifyQueue.SYSTEM_WQ, 100, env -> {
            KernfsNode kn = env.kernfs().createFile("md0/md/array_state");
            Completion writeHeld = new Completion(env.ctx().platform(), "rwsem write-held");
            Completion notified = new Completion(env.ctx().platform(), "notified");
            AtomicBoolean pollKickedInline = new AtomicBoolean();
            AtomicBoolean released = new AtomicBoolean();
            AtomicBoolean watcherWokeAfterRelease = new AtomicBoolean();
            AtomicLong inotifySeen = new AtomicLong();
            env.ctx().spawn("mount", () -> {
                env.kernfs().supersRwsem().downWrite();
                try {
                    writeHeld.complete();
                    notified.waitFor();
                    released.set(true);
                } finally {
                    env.kernfs().supersRwsem().upWrite();
                }
            });
            env.ctx().spawn("md", () -> {
                writeHeld.waitFor();
                env.kernfs().kernfsNotify(kn);
                pollKickedInline.set(kn.event() == 1);
                notified.complete();
            });
            env.ctx().spawn("watcher", () -> {
                inotifySeen.set(kn.inotifyWait(0));
                watcherWokeAfterRelease.set(released.get());
            });
            env.ctx().invariant("poll was kicked by kernfs_notify itself", pollKickedInline::get);
            env.ctx().invariant("fsnotify waited for the write-held rwsem", watcherWokeAfterRelease::get);
            env.ctx().invariant("the inotify watcher got one event", () -> inotifySeen.get() == 1);
        });
    }

    /**
     * The node's pending fsnotify names the notify item from the listing (made by the caller of
     * {@code kernfs_notify} itself) until the item has woken the watchers; a second notify while
     * listed rides on the first listing.
     */
    @Test
    void thePendingFsnotifyIsTheNotifyItemsUntilItIsDelivered() {
        MdSim.assertCompletes("kernfs-pending", Kernfs.NotifyQueue.KERNFS_WQ, 100, env -> {
            KernfsNode kn = env.kernfs().createFile("md0/md/array_state");
            AtomicBoolean nobodyBefore = new AtomicBoolean();
            AtomicBoolean theItemWhileHeld = new AtomicBoolean();
            AtomicBoolean nobodyAfter = new AtomicBoolean();
            AtomicLong seen = new AtomicLong();
            env.ctx().spawn("mount", () -> {
                nobodyBefore.set(kn.pendingFsnotify().completer() == null && !kn.fsnotifyPending());
                env.kernfs().supersRwsem().downWrite(); // the item cannot deliver until the release
                try {
                    env.kernfs().kernfsNotify(kn);
                    env.kernfs().kernfsNotify(kn);
                    theItemWhileHeld.set(kn.pendingFsnotify().completer() == env.kernfs().notifyWork() && kn.fsnotifyPending());
                } finally {
                    env.kernfs().supersRwsem().upWrite();
                }
                env.kernfs().notifyWork().flush();
                nobodyAfter.set(kn.pendingFsnotify().completer() == null && !kn.fsnotifyPending());
            });
            env.ctx().spawn("watcher", () -> seen.set(kn.inotifyWait(0)));
            env.ctx().invariant("nothing pending before kernfs_notify", nobodyBefore::get);
            env.ctx().invariant("the notify item completes it while the rwsem is write-held", theItemWhileHeld::get);
            env.ctx().invariant("delivered (the item flushed): nobody is named any more", nobodyAfter::get);
            env.ctx().invariant("the watcher was told", () -> seen.get() >= 1);
        });
    }

    @ParameterizedTest
    @EnumSource(Mdmon.Wakeup.class)
    void mdmonWakesWritesItsMetadataAndClearsThePendingFlag(Mdmon.Wakeup wakeup) {
        MdSim.assertCompletes("mdmon-" + wakeup, Kernfs.NotifyQueue.SYSTEM_WQ, 100, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            Mdmon mdmon = new Mdmon(md, env.sys().pages(), Mdmon.Memory.ALLOCATES, wakeup);
            mdmon.start();
            env.ctx().spawn("writer", () -> dev.rescuer.storage.block.BlockLayer.submitBioWait(writeOf(md)));
            env.ctx().invariant("mdmon handled one write-pending", () -> mdmon.metadataUpdates() == 1);
            env.ctx().invariant("its metadata is on both mirrors", () -> env.a().seen().stream()
                    .filter(s -> s.origin().equals("mdmon imsm metadata md0")).count() == 1
                    && env.b().seen().stream().filter(s -> s.origin().equals("mdmon imsm metadata md0")).count() == 1);
            env.ctx().invariant("nothing is pending", () -> !md.testSbFlag(Mddev.MD_SB_CHANGE_PENDING));
            env.ctx().invariant("sb_wait's owner names nobody once the change is cleared",
                    () -> md.sbWait().owner() instanceof PendingSbChange p && p.completer() == null);
        });
    }

    /**
     * Before mdmon starts there is no inotify watch for the notify item to tell, so a pending change
     * waits for mdmon's start, not for the item, even while the item has yet to run: the owner names
     * nobody and says so, in both its completer and its description. Once started, mdmon reads
     * {@code array_state} and clears the change.
     */
    @Test
    void aChangeMadeBeforeMdmonStartsWaitsForItsStartNotForTheNotifyItem() {
        MdSim.assertCompletes("mdmon-not-started", Kernfs.NotifyQueue.SYSTEM_WQ, 100, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            Mdmon mdmon = new Mdmon(md, env.sys().pages(), Mdmon.Memory.MLOCKED, Mdmon.Wakeup.FSNOTIFY);
            PendingSbChange change = (PendingSbChange) md.sbWait().owner();
            Completion writeHeld = new Completion(env.ctx().platform(), "rwsem write-held");
            AtomicBoolean undelivered = new AtomicBoolean();
            AtomicBoolean namesNobody = new AtomicBoolean();
            AtomicReference<String> described = new AtomicReference<>();
            env.ctx().spawn("mount", () -> {
                env.kernfs().supersRwsem().downWrite(); // the notify item cannot deliver until the release
                try {
                    writeHeld.complete();
                    while (!md.testSbFlag(Mddev.MD_SB_CHANGE_PENDING) || !md.sysfsState().fsnotifyPending()) {
                        env.ctx().platform().cpuRelax(); // until the writer has set the flag and listed the node
                    }
                    undelivered.set(md.sysfsState().fsnotifyPending());
                    namesNobody.set(change.completer() == null);
                    described.set(change.describe());
                    mdmon.start();
                } finally {
                    env.kernfs().supersRwsem().upWrite();
                }
            });
            env.ctx().spawn("writer", () -> {
                writeHeld.waitFor();
                dev.rescuer.storage.block.BlockLayer.submitBioWait(writeOf(md));
            });
            env.ctx().invariant("the change was still undelivered when looked at", undelivered::get);
            env.ctx().invariant("the owner named nobody before mdmon started (not the notify item)", namesNobody::get);
            env.ctx().invariant("its description said mdmon had not started",
                    () -> "md0 MD_SB_CHANGE_PENDING, for mdmon, not started".equals(described.get()));
            env.ctx().invariant("mdmon, once started, handled the change", () -> mdmon.metadataUpdates() == 1
                    && !md.testSbFlag(Mddev.MD_SB_CHANGE_PENDING));
        });
    }

    @Test
    void anArrayHasOneMonitor() {
        MdSim.assertCompletes("mdmon-twice", Kernfs.NotifyQueue.SYSTEM_WQ, 1, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            new Mdmon(md, env.sys().pages(), Mdmon.Memory.MLOCKED, Mdmon.Wakeup.POLL);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new Mdmon(md, env.sys().pages(), Mdmon.Memory.MLOCKED, Mdmon.Wakeup.FSNOTIFY));
            org.junit.jupiter.api.Assertions.assertEquals(
                    "mdmon for md0: the array already has a monitor (one mdmon per array)", e.getMessage());
        });
    }

    @Test
    void mdmonRefusesAnArrayWithInKernelMetadata() {
        MdSim.assertCompletes("mdmon-native", Kernfs.NotifyQueue.SYSTEM_WQ, 1, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), false);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new Mdmon(md, env.sys().pages(), Mdmon.Memory.MLOCKED, Mdmon.Wakeup.POLL));
            org.junit.jupiter.api.Assertions.assertEquals("mdmon monitors arrays with external metadata; md0 has in-kernel metadata", e.getMessage());
        });
    }

    private static dev.rescuer.storage.block.Bio writeOf(Mddev md) {
        var w = new dev.rescuer.storage.block.Bio(dev.rescuer.storage.block.BioOp.WRITE, 0, md, 0,
                dev.rescuer.storage.block.Bio.SECTOR_SIZE, null, null, "write");
        w.setData(new long[] {5}, 0);
        return w;
    }
}
