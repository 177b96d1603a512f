package dev.rescuer.storage.block;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.ExploreResult;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.HangReport;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.md.Md;
import dev.rescuer.storage.md.Mddev;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wait-for report follows a wait for a bio ({@code submit_bio_wait}) to whoever will end it, from
 * what the block layer records ({@link Bio#completer()}): the disk while the I/O is in flight (a leaf:
 * no task has to act), the work item an end-io deferred the bio to ({@link Bio#deferEndio}), and from
 * that item on to the task that would have to run it. No scenario declares a releaser here.
 */
class BioCompleterReportTest {

    private record Inline(String name, BiConsumer<ScenarioContext, Variant> body) implements Scenario {
        static final Variant HANGS = new Variant("hangs", "the test's setup", Variant.Expectation.HANGS);

        @Override
        public String description() {
            return "test scenario " + name;
        }

        @Override
        public List<Variant> variants() {
            return List.of(HANGS);
        }

        @Override
        public long estimatedSteps() {
            return 200;
        }

        @Override
        public void setUp(ScenarioContext ctx, Variant variant) {
            body.accept(ctx, variant);
        }
    }

    private static HangReport firstHang(Scenario s) {
        ExploreResult r = new Explorer(List.of(s)).explore(s, Inline.HANGS, ExploreOptions.defaults().withSchedules(3));
        assertEquals("hang", r.result());
        return r.firstFinding().report();
    }

    private static List<String> edgesOf(HangReport report, String task) {
        List<String> out = new ArrayList<>();
        report.chains().forEach(c -> c.stream().filter(e -> e.startsWith(task + ":")).forEach(out::add));
        report.cycles().forEach(c -> c.stream().filter(e -> e.startsWith(task + ":")).forEach(out::add));
        return out;
    }

    private static RescuerSystem system(ScenarioContext ctx) {
        return ctx.system(RescuerSystem.builder().name("bio-owner").totalPages(256).pagesPerThread(1)
                .hungTaskTimeout(Duration.ofSeconds(120)).workqueues(WorkqueueConfig.defaults().withCpus(1)));
    }

    /** A read the disk has in flight for longer than the hung-task timeout: the chain ends at the disk. */
    @Test
    void aBioInFlightOnTheDiskIsALeaf() {
        HangReport report = firstHang(new Inline("in-flight", (ctx, v) -> {
            system(ctx);
            Disk slow = new Disk(ctx.platform(), "sda", 64, Duration.ofSeconds(1000), 1);
            ctx.spawn("reader", () -> {
                Bio bio = new Bio(BioOp.READ, 0, slow, 0, Bio.PAGE_SIZE, null, null, "slow read");
                BlockLayer.submitBioWait(bio);
            });
        }));
        List<String> edges = edgesOf(report, "reader");
        assertEquals(1, edges.size(), report.toText());
        assertTrue(edges.get(0).endsWith("released by bio(READ sda 0+8, slow read), in flight on disk sda (I/O: no task needed)"),
                report.toText());
        assertTrue(report.cycles().isEmpty(), report.toText());
    }

    /**
     * A bio whose end-io hands it to a work item, held back on a {@code max_active} 1 queue behind an
     * item that never finishes: the reader's edge goes through the bio to the deferred item and on to
     * the worker running the item ahead of it.
     */
    @Test
    void aBioDeferredToAWorkItemIsReleasedByWhoeverWouldRunThatItem() {
        HangReport report = firstHang(new Inline("deferred", (ctx, v) -> {
            RescuerSystem sys = system(ctx);
            Disk disk = new Disk(ctx.platform(), "sda", 64, Duration.ofMillis(1), 1);
            WorkQueue wq = sys.workqueues().create("kfinishd", 1);
            Completion never = new Completion(ctx.platform(), "never");
            wq.queue(new Work("stuck", never::waitFor));
            ctx.spawn("reader", () -> {
                Bio[] self = new Bio[1];
                Work finish = new Work("finish_bio", () -> self[0].endio());
                Bio bio = new Bio(BioOp.READ, 0, disk, 0, Bio.PAGE_SIZE, null, null, "deferred read");
                self[0] = bio;
                Completion done = new Completion(ctx.platform(), "read done");
                done.setOwner(bio);
                bio.setEndIo(b -> {
                    b.setEndIo(x -> done.complete());
                    b.reopen();
                    b.deferEndio(wq, finish);
                });
                BlockLayer.submitBioNoacct(bio);
                done.waitFor();
            });
        }));
        List<String> edges = edgesOf(report, "reader");
        assertEquals(1, edges.size(), report.toText());
        String e = edges.get(0);
        assertTrue(e.contains("released by bio(READ sda 0+8, deferred read), end-io deferred to work finish_bio on workqueue kfinishd"), e);
        assertTrue(e.contains("held back by max_active behind work stuck on workqueue kfinishd, running in kworker/"), e);
        assertTrue(report.blocked().stream().anyMatch(b -> b.task().startsWith("kworker/") && b.primitive().equals("never")),
                report.toText());
    }

    /**
     * An empty preflush to an md array ({@code md_flush_request}): the array hands the bio to
     * {@code submit_flushes} on md_wq, which hands it to the members' preflushes; with a member that
     * never answers, the waiter's edge goes through the array's bio to the member's flush in flight.
     */
    @Test
    void anMdFlushIsFollowedThroughSubmitFlushesToTheMembersPreflush() {
        HangReport report = firstHang(new Inline("md-flush", (ctx, v) -> {
            RescuerSystem sys = system(ctx);
            Disk sda = new Disk(ctx.platform(), "sda", 4104, Duration.ofMillis(1), 1);
            Disk sdb = new Disk(ctx.platform(), "sdb", 4104, Duration.ofSeconds(1000), 1);
            Md md = new Md(sys.workqueues(), sys.pages(), new Kernfs(sys.workqueues(), Kernfs.NotifyQueue.SYSTEM_WQ));
            Mddev array = md.raid1("md0", List.of(sda, sdb), false);
            ctx.spawn("fsync", () -> BlockLayer.submitBioWait(new Bio(BioOp.FLUSH, Bio.REQ_PREFLUSH, array, 0, 0, null, null, "fsync")));
        }));
        List<String> edges = edgesOf(report, "fsync");
        assertEquals(1, edges.size(), report.toText());
        assertTrue(edges.get(0).endsWith("released by bio(FLUSH md0 0+0, fsync), waits for -> bio(FLUSH sdb 0+0, md0 md flush), "
                + "in flight on disk sdb (I/O: no task needed)"), report.toText());
    }
}
