package dev.rescuer.storage.loop;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.dm.bufio.DmBuffer;
import dev.rescuer.storage.dm.bufio.DmBufioClient;
import dev.rescuer.storage.dm.bufio.ShrinkerForm;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.OpenFile;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * S2 on the model, built from Java until stack files have a filesystem kind: a journaling filesystem
 * on disk {@code sda} holds {@code image}, the backing file of loop device {@code loop0}; a dm-bufio
 * client standing for dm-thin's metadata caches blocks of {@code loop0}. The workload ({@code thin}):
 * dirties four metadata blocks, reads a data file (clean page-cache pages, which any reclaim context
 * may drop), takes memory down to the min watermark, optionally writes a page of {@code image}
 * itself (a filesystem {@code GFP_NOFS} allocation under the inode lock: case (a)), holds the memory
 * for a while (kswapd reclaims meanwhile: case (b)), frees it and commits the metadata
 * ({@code dm_bufio_write_dirty_buffers}).
 *
 * <p>A variant is a set of settings a user could make (the kernel version's shrinker form, the loop
 * worker's mode and {@code PF_MEMALLOC_NOIO}, direct I/O, kswapd, the workload's steps); the setup
 * reads settings, never variant names.
 */
class S2LoopBufio implements Scenario {

    /** The settings of one run. */
    record Settings(ShrinkerForm form, LoopSettings loop, boolean kswapd, boolean nofsImageWriter, boolean dataWrite, int holdMs) {
    }

    static final Map<String, Settings> SETTINGS = new LinkedHashMap<>();
    static final Map<String, Variant> VARIANTS = new LinkedHashMap<>();

    static {
        LoopSettings buffered = new LoopSettings(LoopWorkerMode.KTHREAD, false, false);
        LoopSettings bufferedNoio = new LoopSettings(LoopWorkerMode.KTHREAD, true, false);
        LoopSettings direct = new LoopSettings(LoopWorkerMode.KTHREAD, false, true);
        LoopSettings directNoio = new LoopSettings(LoopWorkerMode.KTHREAD, true, true);
        add("nofs-pre2014-shrinker", "(a) a filesystem NOFS allocation enters the pre-2014 shrinker, whose buffers live on a loop device of the same filesystem",
                Variant.Expectation.HANGS, new Settings(ShrinkerForm.PRE_2014, buffered, false, true, false, 0));
        add("nofs-2014-shrinker", "(a) with 9d28eb12447e: NOFS reclaim only trylocks and skips dirty buffers",
                Variant.Expectation.COMPLETES, new Settings(ShrinkerForm.GFP_FS_2014, buffered, false, true, false, 0));
        add("chinner-noio-pre2014-shrinker", "(a) with the loop worker under PF_MEMALLOC_NOIO and the pre-2014 shrinker (Chinner: the 2014 change is then unneeded)",
                Variant.Expectation.HANGS, new Settings(ShrinkerForm.PRE_2014, bufferedNoio, false, true, false, 0));
        add("chinner-noio-2014-shrinker", "(a) the fourth cell of Chinner's table: loop worker NOIO and the 2014 shrinker",
                Variant.Expectation.COMPLETES, new Settings(ShrinkerForm.GFP_FS_2014, bufferedNoio, false, true, false, 0));
        add("kswapd-loop-gfp-kernel", "(b) kswapd in the shrinker holds c->lock waiting for loop I/O; the loop worker's GFP_KERNEL dio allocation blocks on c->lock",
                Variant.Expectation.HANGS, new Settings(ShrinkerForm.GFP_FS_2014, direct, true, false, true, 50));
        add("kswapd-loop-noio", "(b) with d0a255e795ab: the loop worker's allocations are NOIO",
                Variant.Expectation.COMPLETES, new Settings(ShrinkerForm.GFP_FS_2014, directNoio, true, false, true, 50));
        add("kswapd-loop-trylock", "(b) with bd293d071ffe (always trylock, reverted by cf3591ef8329)",
                Variant.Expectation.HANGS, new Settings(ShrinkerForm.TRYLOCK_2019, direct, true, false, true, 50));
        add("kswapd-shrinker-workqueue", "(b) with 70704c33db84: reclaim only queues shrink_work on a MEM_RECLAIM queue",
                Variant.Expectation.COMPLETES, new Settings(ShrinkerForm.WORKQUEUE_2020, direct, true, false, true, 50));
    }

    private static void add(String name, String description, Variant.Expectation expected, Settings s) {
        VARIANTS.put(name, new Variant(name, description, expected));
        SETTINGS.put(name, s);
    }

    static final int METADATA_BLOCKS = 4;
    static final int DATA_PAGES = 16;

    @Override
    public String name() {
        return "s2-loop-bufio";
    }

    @Override
    public String description() {
        return "S2: dm-bufio's shrinker over a loop device backed by the filesystem that reclaims";
    }

    @Override
    public List<Variant> variants() {
        return List.copyOf(VARIANTS.values());
    }

    @Override
    public long estimatedSteps() {
        return 2000;
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        build(ctx, SETTINGS.get(variant.name()));
    }

    /** The objects of one run, for tests that look inside. */
    record Stack(RescuerSystem sys, JournalFs fs, LoopDevice loop, DmBufioClient bufio) {
    }

    static Stack build(ScenarioContext ctx, Settings s) {
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(160).watermarks(8, 12, 16)
                .pagesPerThread(1).backgroundReclaim(s.kswapd()).workqueues(WorkqueueConfig.defaults().withCpus(1)));
        PageCache cache = new PageCache(sys.pages());
        Disk sda = new Disk(ctx.platform(), "sda", 1 << 12, Duration.ofMillis(1), 4);
        FsLayout layout = FsLayout.mkfs(1 << 12, 4, 4);
        layout.addFile("image", 16, 16L * Bio.PAGE_SIZE);
        layout.addFile("data", DATA_PAGES, (long) DATA_PAGES * Bio.PAGE_SIZE);
        BdiWriteback wb = new BdiWriteback("sda", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
        JournalFs fs = JournalFs.mount(sda, layout, MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
        LoopDevice loop0 = new LoopDevice(sys, "loop0", fs, layout.file("image"), s.loop());
        DmBufioClient bufio = new DmBufioClient(sys, loop0, Bio.PAGE_SIZE, 0, "thin-metadata", s.form());
        cache.registerShrinker(); // after bufio's: reclaim reaches dm-bufio before the page cache
        declareReleasers(ctx, sys, loop0, bufio);

        AtomicReference<BlkStatus> commit = new AtomicReference<>();
        AtomicReference<BlkStatus> dataWrite = new AtomicReference<>(s.dataWrite() ? null : BlkStatus.OK);
        ctx.spawn("thin", () -> {
            for (int i = 0; i < METADATA_BLOCKS; i++) {
                DmBuffer b = bufio.newBuffer(i);
                b.data()[0] = 1000 + i;
                bufio.markBufferDirty(b);
                bufio.release(b);
            }
            try (OpenFile data = fs.open("data")) {
                data.read(0, (long) DATA_PAGES * Bio.PAGE_SIZE);
            }
            // A process faulting in memory: one large allocation down to the low watermark, then page by
            // page to the min watermark; those slow-path allocations wake kswapd (wakeup_kswapd).
            List<Pages> hog = new ArrayList<>();
            hog.add(sys.pages().allocate((int) (sys.pages().freePages() - sys.pages().lowWatermark()), Gfp.KERNEL));
            long singles = sys.pages().lowWatermark() - sys.pages().minWatermark();
            for (long i = 0; i < singles; i++) {
                hog.add(sys.pages().allocate(1, Gfp.KERNEL));
            }
            if (s.nofsImageWriter()) {
                try (OpenFile image = fs.open("image")) {
                    image.write(15L * Bio.PAGE_SIZE, Bio.PAGE_SIZE); // xfs_file_buffered_write: i_rwsem, GFP_NOFS page
                }
            }
            if (s.dataWrite()) { // the pool's data lives on the same loop device: one data block written under pressure
                Bio bio = new Bio(BioOp.WRITE, 0, loop0, 8L * FsLayout.BLOCK_SECTORS, Bio.PAGE_SIZE, null, null, "thin data");
                bio.setData(new long[FsLayout.BLOCK_SECTORS], 0);
                dataWrite.set(BlockLayer.submitBioWait(bio));
            }
            if (s.holdMs() > 0) {
                WaitQueue.idle(ctx.platform(), "thin/hold", "hog_hold").waitEventTimeout(() -> false, Duration.ofMillis(s.holdMs()));
            }
            hog.forEach(Pages::free);
            commit.set(bufio.writeDirtyBuffers());
        });
        ctx.invariant("the metadata commit succeeded", () -> commit.get() == BlkStatus.OK);
        ctx.invariant("the data write succeeded", () -> dataWrite.get() == BlkStatus.OK);
        ctx.invariant("no metadata block is left dirty", () -> bufio.dirty() == 0);
        return new Stack(sys, fs, loop0, bufio);
    }

    /** Who ends a wait for a bufio write: the loop device's worker (its kthread, or its work item). */
    private static void declareReleasers(ScenarioContext ctx, RescuerSystem sys, LoopDevice loop, DmBufioClient bufio) {
        ctx.releasers(bufio.writeWait(), () -> loop.workerTask() != null ? List.of(Releaser.task(loop.workerTask()))
                : Releaser.forWork(sys.workqueues(), loop.work()));
    }
}
