package dev.rescuer.storage.pagecache;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.List;

/**
 * Who may write a dirty page from reclaim. Memory is full of dirty pages of two files, one whose
 * mapping has {@code ->writepage} and one without, and nobody runs background writeback. An
 * allocation below the low watermark wakes kswapd; kswapd writes out the dirty pages of the first
 * file itself ({@code pageout}), which lets reclaim free them once the disk completes, and only wakes
 * the flusher for the second. Direct reclaim writes none. Every schedule completes, and the disk saw
 * {@code pageout} bios only for the first file.
 */
class KswapdPageoutTest {

    static final class KswapdPageout implements Scenario {
        @Override
        public String name() {
            return "kswapd-pageout";
        }

        @Override
        public String description() {
            return "kswapd writes dirty pages of a mapping with ->writepage, never of one without";
        }

        @Override
        public List<Variant> variants() {
            return List.of(new Variant("default", "one mapping with ->writepage, one without", Variant.Expectation.COMPLETES));
        }

        @Override
        public long estimatedSteps() {
            return 500;
        }

        @Override
        public void setUp(ScenarioContext ctx, Variant variant) {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(128).watermarks(8, 16, 24)
                    .pagesPerThread(1).workqueues(WorkqueueConfig.defaults().withCpus(1)));
            PageCache cache = new PageCache(sys.pages());
            cache.registerShrinker();
            TestDisk disk = new TestDisk("sda", ctx.platform(), 1 << 16, Duration.ofMillis(1));
            AddressSpace withWritepage = cache.newAddressSpace("legacy", Gfp.KERNEL, disk.extent(0, 1000, true), InodeWriteback.NONE);
            AddressSpace without = cache.newAddressSpace("xfs", Gfp.KERNEL, disk.extent(10_000, 1000, false), InodeWriteback.NONE);
            ctx.spawn("app", () -> {
                without.write(0, 20);
                withWritepage.write(0, 40);
                // About 50 pages are free now; take them below the low watermark, waiting as long as it takes.
                Pages p = sys.pages().allocate((int) (sys.pages().freePages() - 10), Gfp.KERNEL.with(Gfp.Modifier.NOFAIL));
                Pages q = sys.pages().allocate(8, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL)); // needs reclaim: only kswapd's pageout makes any
                q.free();
                p.free();
            });
            ctx.invariant("kswapd wrote pages of the mapping with ->writepage", () -> disk.seen().stream()
                    .anyMatch(s -> s.origin().startsWith("pageout legacy")));
            ctx.invariant("and none of the mapping without it", () -> disk.seen().stream()
                    .noneMatch(s -> s.origin().contains("xfs")));
            ctx.invariant("the xfs pages are still dirty", () -> without.nrDirty() == 20);
            ctx.invariant("the page cache balances", () -> cache.stats().balances());
        }
    }

    @ParameterizedTest
    @EnumSource(StrategyKind.class)
    void kswapdWritesOnlyWhereWritepageExists(StrategyKind kind) {
        Explorations.assertCompletes(new KswapdPageout(), "default", kind, 20);
    }
}
