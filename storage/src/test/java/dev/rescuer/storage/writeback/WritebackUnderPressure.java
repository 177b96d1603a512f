package dev.rescuer.storage.writeback;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.workload.TaskStarter;
import dev.rescuer.storage.fs.workload.Workload;
import dev.rescuer.storage.fs.workload.WorkloadEnv;
import dev.rescuer.storage.fs.workload.WorkloadKinds;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The S4 shape one layer down, from the mechanisms: a writer dirties more pages than memory holds
 * through a journaling filesystem while a memory hog faults in anonymous memory. The writer is held
 * in {@code balance_dirty_pages} until writeback cleans pages; reclaim (the hog's, kthreadd's) can
 * only free clean pages and wake the flusher. The flusher item needs a worker, and the pool's first
 * worker must create a spare before it runs anything, through kthreadd, which pays in pages.
 *
 * <ul>
 *   <li>{@code mem-reclaim}: {@code bdi_wq} as the kernel creates it ({@code MEM_RECLAIM | UNBOUND |
 *       FREEZABLE}). When creation is stuck in reclaim, the mayday timer calls the queue's rescuer,
 *       which runs the writeback item; completions clean pages; reclaim frees them. Every schedule
 *       completes.
 *   <li>{@code no-mem-reclaim}: the same queue without {@code MEM_RECLAIM}. In a schedule where the
 *       hog takes memory down to the min watermark before the first writeback item got its worker,
 *       kthreadd's allocation finds only dirty pages, the item never runs, and the writer stays
 *       throttled: the hung-task detector reports it.
 * </ul>
 *
 * <p><b>The memory arithmetic</b> (pages; min watermark 8, a thread costs 4). When the tasks start,
 * 118 pages are free without a rescuer, 114 with one (the rescuer's stack). The hog takes its 104
 * at once (the writer is still reading its file's inode from the disk; a created inode would not be
 * read, {@code XFS_IGET_CREATE}) and holds them for 300 s,
 * past the hung-task detector's second check at 240 s. That leaves the writer just enough for its
 * inode and two dirty pages; the dirty threshold is then one page, so it kicks writeback at the
 * first and is throttled at the second. The first writeback item wakes the unbound pool's only
 * worker, which must first create a spare, and kthreadd finds fewer than min + 4 free pages and
 * nothing clean to reclaim: creation fails and is retried every second. With a rescuer, the mayday
 * timer gets the item run anyway, and from then on every page the writer dirties is cleaned and
 * reclaimed. One page less for the hog and kthreadd succeeds in every schedule; one more and, with a
 * rescuer, the writer cannot dirty its first page, so nothing is ever reclaimable: the margin is
 * the scenario's point, memory just too short for one more thread.
 */
final class WritebackUnderPressure implements Scenario {

    static final long TOTAL_PAGES = 160;
    static final int WRITER_PAGES = 200;
    static final int HOG_PAGES = 104;
    /** Past the hung-task detector's second check (240 s): the hog keeps its memory for longer than a writer may wait. */
    static final int HOG_HOLD_MS = 300_000;
    static final Duration DISK_LATENCY = Duration.ofMillis(2);

    private static final List<Variant> VARIANTS = List.of(
            new Variant("mem-reclaim", "bdi_wq is MEM_RECLAIM | UNBOUND | FREEZABLE, as in the kernel", Variant.Expectation.COMPLETES),
            new Variant("no-mem-reclaim", "bdi_wq is UNBOUND | FREEZABLE, without a rescuer", Variant.Expectation.HANGS));

    @Override
    public String name() {
        return "writeback-under-pressure";
    }

    @Override
    public String description() {
        return "A writer dirties more than memory holds while a hog faults in memory; writeback runs on bdi_wq.";
    }

    @Override
    public List<Variant> variants() {
        return VARIANTS;
    }

    @Override
    public long estimatedSteps() {
        return 4_000;
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(TOTAL_PAGES).watermarks(8, 12, 16)
                .pagesPerThread(4).workqueues(WorkqueueConfig.defaults().withCpus(1)));
        WqFlag[] flags = variant.name().equals("mem-reclaim")
                ? BdiWriteback.BDI_WQ_FLAGS
                : new WqFlag[] {WqFlag.UNBOUND, WqFlag.FREEZABLE};
        WorkQueue bdiWq = sys.workqueues().create("writeback", 0, flags);
        PageCache cache = new PageCache(sys.pages());
        cache.registerShrinker();
        DirtyThrottle throttle = DirtyThrottle.withDefaults(cache);
        TestDisk disk = new TestDisk("vdb", ctx.platform(), 1 << 14, DISK_LATENCY);
        BdiWriteback wb = new BdiWriteback("vdb", bdiWq, throttle);
        FsLayout layout = FsLayout.mkfs(1 << 14, 8, 8);
        layout.addFile("big", WRITER_PAGES, 0); // an empty file of the image: opening it reads its inode
        JournalFs fs = JournalFs.mount(disk, layout, MountOptions.READ_WRITE, cache, sys.workqueues(), wb);

        ctx.releasers(wb.throttleWait(), () -> Releaser.forWork(sys.workqueues(), wb.work()));
        ctx.releasers(fs.journal().commitWait(), () -> Releaser.forWork(sys.workqueues(), fs.journal().pushItem()));

        WorkloadEnv env = new WorkloadEnv(sys.pages(), Map.of("vdb", fs), ctx::progress);
        TaskStarter spawn = ctx::spawn;
        Workload writer = WorkloadKinds.build("writer", "writer", Map.of("fs", "vdb", "file", "big",
                "pages", WRITER_PAGES, "fsync", true), env);
        Workload hog = WorkloadKinds.build("memory-hog", "hog", Map.of("pages", HOG_PAGES, "hold_ms", HOG_HOLD_MS), env);
        writer.start(spawn);
        hog.start(spawn);
        ctx.invariant("the writer wrote every page", () -> writer.progress().done() == WRITER_PAGES);
        ctx.invariant("no page is dirty or under writeback after fsync", () -> cache.nrDirty() == 0 && cache.nrWriteback() == 0);
        ctx.invariant("the page cache balances", () -> cache.stats().balances());
    }
}
