package dev.rescuer.storage.fs;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.TestDisk;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Seed 002's first step, from the mechanisms: kthreadd, creating a worker under memory pressure,
 * reclaims through {@code super_cache_scan}, finds a pinned inode, forces the log and waits for the
 * CIL push item ({@code flush_work}). The push needs a worker of the very pool whose manager is
 * waiting for kthreadd, so only the CIL queue's rescuer (it is {@code MEM_RECLAIM}) can run it; it
 * does, the log I/O completes, the inode is freed, and the worker is created. Every schedule must
 * complete, with the log pushed exactly once and the inode reclaimed.
 */
class KthreaddLogForceTest {

    static final class KthreaddLogForce implements Scenario {
        @Override
        public String name() {
            return "kthreadd-log-force";
        }

        @Override
        public String description() {
            return "kthreadd's allocation for a new worker forces the log through the inode shrinker";
        }

        @Override
        public List<Variant> variants() {
            return List.of(new Variant("default", "the CIL queue is MEM_RECLAIM, as XFS creates it", Variant.Expectation.COMPLETES));
        }

        @Override
        public long estimatedSteps() {
            return 400;
        }

        @Override
        public void setUp(ScenarioContext ctx, Variant variant) {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(96).watermarks(8, 12, 16)
                    .pagesPerThread(4).backgroundReclaim(false).workqueues(WorkqueueConfig.defaults().withCpus(1)));
            PageCache cache = new PageCache(sys.pages());
            cache.registerShrinker();
            TestDisk disk = new TestDisk("md0", ctx.platform(), 1 << 12, Duration.ofMillis(2));
            BdiWriteback wb = new BdiWriteback("md0", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
            JournalFs fs = JournalFs.mount(disk, FsLayout.mkfs(1 << 12, 4, 4), MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
            ctx.releasers(fs.journal().commitWait(), () -> Releaser.forWork(sys.workqueues(), fs.journal().pushItem()));
            long pushesBefore = fs.journal().pushes();
            Completion ran = new Completion(ctx.platform(), "item ran");
            AtomicReference<String> ranOn = new AtomicReference<>();
            Work item = new Work("needs-a-worker", () -> {
                ranOn.set(ctx.platform().currentTask().name());
                ran.complete();
            });
            ctx.spawn("app", () -> {
                try (OpenFile f = fs.create("log", 4)) {
                    f.write(0, 2 * Bio.PAGE_SIZE);
                    f.inode().mapping().filemapWriteAndWaitRange(0, Long.MAX_VALUE); // data clean, size change not committed
                }
                // Memory is now short: only kthreadd's next allocation will need reclaim.
                Pages hog = sys.pages().allocate((int) (sys.pages().freePages() - 9), Gfp.KERNEL);
                sys.workqueues().systemUnboundWq().queue(item); // the pool's only worker must create a spare first
                ran.waitFor();
                hog.free();
            });
            ctx.invariant("the log was pushed exactly once, by reclaim", () -> fs.journal().pushes() == pushesBefore + 1);
            ctx.invariant("the pinned inode was reclaimed", () -> fs.cachedInodes() == 0);
            ctx.invariant("its size reached the disk first", () -> fs.sizeOnDisk("log") == 2 * Bio.PAGE_SIZE);
            ctx.invariant("the item ran on a new worker", () -> ranOn.get() != null && ranOn.get().startsWith("kworker/u"));
        }
    }

    @ParameterizedTest
    @EnumSource(StrategyKind.class)
    void kthreaddWaitsForTheLogAndTheCilRescuerRunsThePush(StrategyKind kind) {
        Explorations.assertCompletes(new KthreaddLogForce(), "default", kind, 30);
    }
}
