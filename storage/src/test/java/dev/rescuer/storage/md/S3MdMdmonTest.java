package dev.rescuer.storage.md;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Outcome;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.OpenFile;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * S3 (seed 002, Junxiao Bi's report) built from Java, until a filesystem kind exists in stack files:
 * two IMSM raid1 arrays, a journaling filesystem on md0, an application writing with a preflush to
 * md1, and kthreadd creating a worker under memory pressure, which reclaims through the
 * filesystem's {@code super_cache_scan} and forces the log onto md0. Every variant differs only in
 * settings a user has: where {@code kernfs_notify} queues its item, whether mdmon allocates, whether a
 * mount holds {@code kernfs_supers_rwsem} for write while allocating, and who manages the metadata.
 * mdmon here waits on an inotify watch ({@link Mdmon.Wakeup#FSNOTIFY}), the dependency the seed's
 * cycle assumes; see {@link #withPollTheNotifyItemIsNotOnMdmonsPath} for an mdmon in {@code select}.
 * The CI budgets are small; the long runs are in docs/STORAGE.md.
 */
public class S3MdMdmonTest {

    record Settings(Kernfs.NotifyQueue queue, Mdmon.Memory memory, boolean supersWriter, boolean external, Mdmon.Wakeup wakeup) {
    }

    static final class S3 implements Scenario {
        private final Mdmon.Wakeup wakeup;

        S3(Mdmon.Wakeup wakeup) {
            this.wakeup = wakeup;
        }

        @Override
        public String name() {
            return "s3-md-mdmon";
        }

        @Override
        public String description() {
            return "two IMSM raid1 arrays on md_wq, kthreadd in reclaim forcing the log, mdmon woken by kernfs_notify";
        }

        @Override
        public List<Variant> variants() {
            return List.of(
                    new Variant("notify-system-wq", "kernfs notify on system_wq", Variant.Expectation.HANGS),
                    new Variant("notify-reclaim-wq-mdmon-allocates", "kernfs_wq MEM_RECLAIM, mdmon allocates", Variant.Expectation.HANGS),
                    new Variant("notify-reclaim-wq-supers-rwsem", "kernfs_wq MEM_RECLAIM, a mount write-holds kernfs_supers_rwsem and allocates", Variant.Expectation.HANGS),
                    new Variant("notify-reclaim-wq-mdmon-locked", "kernfs_wq MEM_RECLAIM, mdmon mlocked, no rwsem writer", Variant.Expectation.COMPLETES),
                    new Variant("in-kernel-metadata", "the kernel writes the IMSM superblock itself", Variant.Expectation.COMPLETES));
        }

        static Settings settings(String variant, Mdmon.Wakeup wakeup) {
            return switch (variant) {
                case "notify-system-wq" -> new Settings(Kernfs.NotifyQueue.SYSTEM_WQ, Mdmon.Memory.MLOCKED, false, true, wakeup);
                case "notify-reclaim-wq-mdmon-allocates" -> new Settings(Kernfs.NotifyQueue.KERNFS_WQ, Mdmon.Memory.ALLOCATES, false, true, wakeup);
                case "notify-reclaim-wq-supers-rwsem" -> new Settings(Kernfs.NotifyQueue.KERNFS_WQ, Mdmon.Memory.MLOCKED, true, true, wakeup);
                case "notify-reclaim-wq-mdmon-locked" -> new Settings(Kernfs.NotifyQueue.KERNFS_WQ, Mdmon.Memory.MLOCKED, false, true, wakeup);
                case "in-kernel-metadata" -> new Settings(Kernfs.NotifyQueue.SYSTEM_WQ, Mdmon.Memory.MLOCKED, false, false, wakeup);
                default -> throw new IllegalArgumentException("no variant " + variant);
            };
        }

        @Override
        public long estimatedSteps() {
            return 800;
        }

        @Override
        public void setUp(ScenarioContext ctx, Variant variant) {
            Settings s = settings(variant.name(), wakeup);
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(96).watermarks(8, 12, 16)
                    .pagesPerThread(4).backgroundReclaim(false).workqueues(WorkqueueConfig.defaults().withCpus(1)));
            PageCache cache = new PageCache(sys.pages());
            cache.registerShrinker();
            Kernfs kernfs = new Kernfs(sys.workqueues(), s.queue());
            Md md = new Md(sys.workqueues(), sys.pages(), kernfs);
            List<Disk> disks = new ArrayList<>();
            for (String n : List.of("sda", "sdb", "sdc", "sdd")) {
                disks.add(new Disk(ctx.platform(), n, (1 << 12) + 8, Duration.ofMillis(2), 4));
            }
            Mddev md0 = md.raid1("md126", disks.subList(0, 2), s.external());
            Mddev md1 = md.raid1("md127", disks.subList(2, 4), s.external());
            List<Mdmon> mdmons = new ArrayList<>();
            for (Mddev a : List.of(md0, md1)) {
                if (s.external()) {
                    Mdmon m = new Mdmon(a, sys.pages(), s.memory(), s.wakeup());
                    m.start();
                    mdmons.add(m);
                    ctx.releasers(a.sbWait(), () -> List.of(Releaser.task(m.task())));
                    if (s.wakeup() == Mdmon.Wakeup.FSNOTIFY) { // the inotify watch is woken by the notify item
                        ctx.releasers(a.sysfsState().inotifyQueue(), () -> Releaser.forWork(sys.workqueues(), kernfs.notifyWork()));
                    }
                } else {
                    ctx.releasers(a.sbWait(), () -> List.of(Releaser.task(a.thread().task())));
                }
            }
            ctx.releasers(kernfs.notifyWork(), () -> Releaser.forWork(sys.workqueues(), kernfs.notifyWork()));
            BdiWriteback wb = new BdiWriteback(md0.name(), BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
            JournalFs fs = JournalFs.mount(md0, FsLayout.mkfs(md0.capacitySectors(), 4, 4), MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
            ctx.releasers(fs.journal().commitWait(), () -> Releaser.forWork(sys.workqueues(), fs.journal().pushItem()));
            Completion pressure = new Completion(ctx.platform(), "memory is short");
            Completion ran = new Completion(ctx.platform(), "item ran");
            Work item = new Work("needs-a-worker", ran::complete);
            Completion release = new Completion(ctx.platform(), "busy item released");
            Work busy = new Work("busy-item", release::waitFor); // another system_wq user, asleep
            ctx.spawn("app", () -> {
                try (OpenFile f = fs.create("log", 4)) {
                    f.write(0, 2 * Bio.PAGE_SIZE);
                    f.inode().mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE); // md126 dirty; the size is not committed
                }
                Pages hog = sys.pages().allocate((int) (sys.pages().freePages() - 8), Gfp.KERNEL); // below the low mark: every allocation takes the slow path
                pressure.completeAll();
                sys.workqueues().systemWq().queue(busy);
                sys.workqueues().systemWq().queue(item); // the pool's last idle worker must create a spare first
                ran.waitFor();
                release.complete();
                hog.free();
            });
            ctx.spawn("db", () -> {
                pressure.waitFor();
                Bio w = new Bio(BioOp.WRITE, Bio.REQ_PREFLUSH | Bio.REQ_FUA | Bio.REQ_SYNC, md1, 0, Bio.PAGE_SIZE, null, null, "db fsync");
                w.setData(new long[] {1, 2, 3, 4, 5, 6, 7, 8}, 0);
                BlockLayer.submitBioWait(w);
            });
            if (s.supersWriter()) {
                ctx.spawn("mount", () -> {
                    pressure.waitFor();
                    kernfs.supersRwsem().downWrite(); // kernfs_fill_super / kill_sb in progress
                    try {
                        sys.pages().allocate(2, Gfp.KERNEL).free();
                    } finally {
                        kernfs.supersRwsem().upWrite();
                    }
                });
            }
            ctx.invariant("md127's write reached both mirrors", () -> disks.get(2).contentAt(0) == 1 && disks.get(3).contentAt(7) == 8);
            ctx.invariant("both arrays are dirty with no change pending",
                    () -> !md0.inSync() && !md1.inSync() && !md0.testSbFlag(Mddev.MD_SB_CHANGE_PENDING) && !md1.testSbFlag(Mddev.MD_SB_CHANGE_PENDING));
            ctx.invariant("the metadata was written by whoever manages it", () -> s.external()
                    ? mdmons.stream().allMatch(m -> m.metadataUpdates() == 1) && md0.superblockWrites() == 0
                    : md0.superblockWrites() == 1 && md1.superblockWrites() == 1);
        }
    }

    private static ExploreResult explore(Scenario sc, String variant, StrategyKind kind, int schedules) {
        return new Explorer(List.of(sc)).explore(sc, sc.variant(variant),
                ExploreOptions.defaults().withStrategy(kind).withSchedules(schedules));
    }

    @Test
    void notifyOnSystemWqHangs() {
        String report = assertHangs(new S3(Mdmon.Wakeup.FSNOTIFY), "notify-system-wq").firstFinding().report().toText();
        // kthreadd forces the log; the CIL push's log write is md126's flush, queued on md_wq behind its
        // rescuer, which sleeps in md127's md_write_start for mdmon, whose notify item waits on system_wq
        // for a worker that only kthreadd can create.
        assertContains(report, "kthreadd:4 blocked for", "on waitqueue (work_completion)xlog_cil_push_work md126");
        assertContains(report, "kworker/R-md:", "on waitqueue md127/sb_wait [&mddev->sb_wait]", "md127 md_submit_flush_data (rescuer)",
                "pending: md126 submit_flushes", "submit_bio_wait xlog commit seq 1", "completion kthread_create");
        assertContains(report, "workqueue events:", "pending: needs-a-worker, kernfs_notify_workfn");
    }

    /**
     * Whether {@code report} has S3's wait-for cycle for {@code variant} (a hanging one), with the tasks
     * docs/STORAGE.md's table names. With the notify item on {@code system_wq}: kthreadd (forcing the
     * log) → the CIL push, whose commit bio is md126's flush, handed to md_wq (either half) → md_wq's
     * rescuer, in md127's {@code md_write_start} → mdmon, in its inotify watch → the notify item,
     * pending for a worker only kthreadd can create. With an allocating mdmon the notify item ran and
     * mdmon's fault waits behind kthreadd. With the rwsem writer, the notify item on kernfs_wq's rescuer
     * waits behind the mount, whose allocation forces the log (kthreadd may then be on another cycle).
     */
    public static boolean hasS3Cycle(HangReport report, String variant) {
        List<String> tasks = switch (variant) {
            case "notify-system-wq", "notify-reclaim-wq-mdmon-allocates" -> List.of("kthreadd", "kworker/R-md", "mdmon/md127");
            case "notify-reclaim-wq-supers-rwsem" -> List.of("kworker/R-md", "mdmon/md127", "kworker/R-kernfs", "mount");
            default -> throw new IllegalArgumentException("not a hanging S3 variant: " + variant);
        };
        List<String> items = new ArrayList<>(List.of("work md126 ", " on workqueue md,"));
        if (!variant.equals("notify-reclaim-wq-mdmon-allocates")) {
            items.add("work kernfs_notify_workfn on workqueue");
        }
        return Explorations.hasCycle(report, tasks, items);
    }

    /** Each hanging variant's first hang, from several base seeds, closes S3's cycle ({@link #hasS3Cycle}). */
    @ParameterizedTest
    @ValueSource(strings = {"notify-system-wq", "notify-reclaim-wq-mdmon-allocates", "notify-reclaim-wq-supers-rwsem"})
    void eachHangShowsS3sCycleFromSeveralSeeds(String variant) {
        S3 sc = new S3(Mdmon.Wakeup.FSNOTIFY);
        for (long seed = 1; seed <= 5; seed++) {
            ExploreResult r = new Explorer(List.of(sc)).explore(sc, sc.variant(variant), ExploreOptions.defaults().withSchedules(100).withSeed(seed));
            assertEquals("hang", r.result(), variant + " seed " + seed);
            HangReport report = r.firstFinding().report();
            org.junit.jupiter.api.Assertions.assertTrue(hasS3Cycle(report, variant), () -> variant + ": no S3 cycle in\n" + report.toText());
        }
    }

    private static void assertContains(String report, String... parts) {
        for (String p : parts) {
            org.junit.jupiter.api.Assertions.assertTrue(report.contains(p), () -> "no \"" + p + "\" in\n" + report);
        }
    }

    @Test
    void reclaimQueueWithAnAllocatingMdmonStillHangs() {
        String report = assertHangs(new S3(Mdmon.Wakeup.FSNOTIFY), "notify-reclaim-wq-mdmon-allocates").firstFinding().report().toText();
        // mdmon was woken (its notify item ran on kernfs_wq's rescuer); its page fault's reclaim waits
        // behind kthreadd's, which holds the inode cache's reclaim lock across the log force.
        assertContains(report, "mdmon/md127:", "waits on mutex md126/pag_ici_reclaim_lock [pag_ici_reclaim_lock], held by kthreadd:4",
                "on waitqueue md127/sb_wait");
    }

    private static ExploreResult assertHangs(Scenario sc, String variant) {
        ExploreResult r = explore(sc, variant, StrategyKind.PCT, 100);
        assertEquals("hang", r.result(), () -> r.firstFinding() == null ? "no finding"
                : r.firstFinding().reason() + "\n" + (r.firstFinding().report() == null ? "" : r.firstFinding().report().toText()));
        return r;
    }

    @Test
    void reclaimQueueWithAnAllocatingRwsemWriterHangs() {
        String report = assertHangs(new S3(Mdmon.Wakeup.FSNOTIFY), "notify-reclaim-wq-supers-rwsem").firstFinding().report().toText();
        assertContains(report, "kworker/R-kernfs:", "on rwsem sysfs/kernfs_supers_rwsem",
                "mount:", "on waitqueue (work_completion)xlog_cil_push_work md126", "on waitqueue md127/sb_wait");
    }

    @ParameterizedTest
    @EnumSource(value = StrategyKind.class, names = {"PCT", "RANDOM"})
    void reclaimQueueWithALockedMdmonCompletes(StrategyKind kind) {
        Explorations.assertCompletes(new S3(Mdmon.Wakeup.FSNOTIFY), "notify-reclaim-wq-mdmon-locked", kind, 50);
    }

    @ParameterizedTest
    @EnumSource(value = StrategyKind.class, names = {"PCT", "RANDOM"})
    void inKernelMetadataCompletes(StrategyKind kind) {
        Explorations.assertCompletes(new S3(Mdmon.Wakeup.FSNOTIFY), "in-kernel-metadata", kind, 50);
    }

    @Test
    void theHangReplaysFromItsSeed() {
        S3 sc = new S3(Mdmon.Wakeup.FSNOTIFY);
        Explorer explorer = new Explorer(List.of(sc));
        ExploreResult r = explorer.explore(sc, sc.variant("notify-system-wq"), ExploreOptions.defaults().withSchedules(100));
        RunResult again = explorer.replay(sc, sc.variant("notify-system-wq"), r.firstFinding().seed(), ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        assertEquals(Outcome.HANG, again.outcome());
        assertEquals(r.firstFinding().traceHash(), again.traceHash());
    }

    /**
     * The kernel kicks pollers inline in {@code kernfs_notify}; only inotify watchers wait for the
     * work item. An mdmon in {@code select} (what mdadm's monitor does) is therefore not stuck behind
     * the notify item on {@code system_wq}.
     */
    @ParameterizedTest
    @EnumSource(value = StrategyKind.class, names = {"PCT", "RANDOM"})
    void withPollTheNotifyItemIsNotOnMdmonsPath(StrategyKind kind) {
        Explorations.assertCompletes(new S3(Mdmon.Wakeup.POLL), "notify-system-wq", kind, 50);
        Explorations.assertCompletes(new S3(Mdmon.Wakeup.POLL), "notify-reclaim-wq-supers-rwsem", kind, 50);
    }

    /** Tejun's point does not depend on how mdmon waits: an mdmon that allocates hangs when woken by poll too. */
    @Test
    void withPollAnAllocatingMdmonStillHangs() {
        assertHangs(new S3(Mdmon.Wakeup.POLL), "notify-reclaim-wq-mdmon-allocates");
    }
}
