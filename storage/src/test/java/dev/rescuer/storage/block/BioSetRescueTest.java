package dev.rescuer.storage.block;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code BIOSET_NEED_RESCUER} on the simulator: two stacked devices, each of which splits every bio in
 * two halves allocated from its own bio set (one reserved bio each) while memory is exhausted, over a
 * disk. The first half sits on the task's {@code bio_list} holding the only bio of the set, so the
 * second allocation can only succeed if that half is punted to the rescuer.
 */
class BioSetRescueTest {

    /** A device that splits each bio into two halves from its bio set ({@code bio_split} twice). */
    static final class SplitDevice implements BlockDevice {
        private final String name;
        private final BlockDevice lower;
        private final BioSet bs;

        SplitDevice(String name, BlockDevice lower, BioSet bs) {
            this.name = name;
            this.lower = lower;
            this.bs = bs;
        }

        @Override public String name() { return name; }
        @Override public long capacitySectors() { return lower.capacitySectors(); }
        @Override public Platform platform() { return lower.platform(); }

        @Override
        public void submitBio(Bio bio) {
            int half = bio.sectors() / 2;
            AtomicInteger left = new AtomicInteger(2);
            for (int i = 0; i < 2; i++) {
                Bio child = bs.alloc(bio.op(), 0, lower, bio.sector() + (long) i * half, half * Bio.SECTOR_SIZE, b -> {
                    bs.free(b);
                    if (left.decrementAndGet() == 0) {
                        bio.endio();
                    }
                }, name + " half", Gfp.NOIO);
                BlockLayer.submitBioNoacct(child);
            }
        }
    }

    /** The scenario: the variants differ only in the bio sets' flag. */
    static final class TwoLevelSplit implements Scenario {
        @Override public String name() { return "bioset-rescue"; }
        @Override public String description() { return "two stacked splitting devices under memory exhaustion"; }
        @Override public long estimatedSteps() { return 300; }

        @Override
        public List<Variant> variants() {
            return List.of(new Variant("need-rescuer", "BIOSET_NEED_RESCUER", Variant.Expectation.COMPLETES),
                    new Variant("no-rescuer", "flags 0", Variant.Expectation.HANGS));
        }

        @Override
        public void setUp(ScenarioContext ctx, Variant variant) {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().totalPages(256).watermarks(16, 24, 32)
                    .backgroundReclaim(false).workqueues(WorkqueueConfig.defaults().withCpus(1)));
            int flags = variant.name().equals("need-rescuer") ? BioSet.BIOSET_NEED_RESCUER : 0;
            Disk disk = new Disk(ctx.platform(), "sda", 1024, Duration.ofMillis(1), 4);
            BlockDevice mid = new SplitDevice("mid", disk, new BioSet(sys.pages(), sys.workqueues(), "mid", 1, flags));
            BlockDevice top = new SplitDevice("top", mid, new BioSet(sys.pages(), sys.workqueues(), "top", 1, flags));
            Completion memoryGone = new Completion(ctx.platform(), "memory gone");
            int[] done = {0};
            for (int t = 0; t < 2; t++) {
                ctx.spawn("io/" + t, () -> {
                    memoryGone.waitFor();
                    for (int i = 0; i < 2; i++) {
                        Bio bio = new Bio(BioOp.WRITE, 0, top, i * 16L, 16 * Bio.SECTOR_SIZE, null, null, "io");
                        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(bio));
                        done[0]++;
                    }
                });
            }
            List<Pages> hog = new ArrayList<>(); // memory is gone: only the reserves are left
            for (Pages p; (p = sys.pages().tryAllocate(1, Gfp.NOWAIT)) != null; ) {
                hog.add(p);
            }
            memoryGone.completeAll();
            ctx.invariant("every bio ended", () -> done[0] == 4);
        }
    }

    @Test
    void theRescuerLetsTheSecondAllocationProceedAndWithoutItTheStackHangs() {
        TwoLevelSplit s = new TwoLevelSplit();
        Explorer explorer = new Explorer(List.of(s));
        ExploreResult ok = explorer.explore(s, s.variant("need-rescuer"), ExploreOptions.defaults().withSchedules(100));
        assertEquals("ok", ok.result(), () -> ok.firstFinding().reason());
        ExploreResult hang = explorer.explore(s, s.variant("no-rescuer"), ExploreOptions.defaults().withSchedules(20));
        assertEquals("hang", hang.result());
        assertNotNull(hang.firstFinding().report());
        assertTrue(hang.firstFinding().report().toText().contains("mempool bioset"), hang.firstFinding().report().toText());
    }
}
