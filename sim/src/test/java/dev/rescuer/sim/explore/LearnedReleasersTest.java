package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.CarrierPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wait-for graph learns who releases an event from who signalled it earlier in the run, with no
 * scenario declaring it ({@link LearnedReleasers}): a work item's class, a live task, an exited task;
 * never the waiter itself; and a declaration overrides what is learned.
 */
class LearnedReleasersTest {

    private static final int SCHEDULES = 4;

    private CarrierPool pool;

    @BeforeEach
    void createPool() {
        pool = new CarrierPool("learned-releasers-test");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    private void forEachHang(InlineScenario s, java.util.function.Consumer<HangReport> check) {
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                RunResult r = s.run(kind, i, pool, 200_000);
                assertEquals(Outcome.HANG, r.outcome(), kind + " schedule " + i + ": " + r.reason());
                check.accept(r.report());
            }
        }
    }

    /**
     * A task completes a round trip through a work item once, then repeats it holding the mutex the
     * item takes: the item's completion was signalled by that item before, so the report closes the
     * cycle through the item's runner.
     */
    private static InlineScenario roundTrip(boolean declare) {
        return new InlineScenario("round-trip", 500, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("rt").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            WorkQueue wq = sys.workqueues().create("pinger_wq", 0);
            Mutex m = new Mutex(platform, "m");
            Completion[] done = {new Completion(platform, "pong#0", "pong")};
            Work item = new Work("pinger", () -> {
                m.lock();
                m.unlock();
                done[0].complete();
            });
            if (declare) {
                ctx.releasers(done[0], () -> List.of(Releaser.note("declared: nobody")));
            }
            ctx.spawn("pinger-user", () -> {
                wq.queue(item);
                done[0].waitFor();
                done[0] = new Completion(platform, "pong#1", "pong"); // a new instance of the same class
                if (declare) {
                    ctx.releasers(done[0], () -> List.of(Releaser.note("declared: nobody")));
                }
                m.lock();
                wq.queue(item);
                done[0].waitFor();
                m.unlock();
            });
        });
    }

    @Test
    void aCompletionSignalledBeforeByAnItemIsReleasedByWhoeverRunsThatItemNow() {
        forEachHang(roundTrip(false), report -> {
            String text = report.toText();
            assertEquals(1, report.cycles().size(), text);
            List<String> cycle = report.cycle();
            assertTrue(cycle.stream().anyMatch(e -> e.startsWith("pinger-user:") && e.contains(
                    "waits on completion pong#1 [pong], released by whoever signalled its class pong before: work pinger;"
                            + " now work pinger on workqueue pinger_wq, running in kworker/")), text);
            assertTrue(cycle.stream().anyMatch(e -> e.startsWith("kworker/") && e.contains("waits on mutex m")
                    && e.contains("held by pinger-user:")), text);
        });
    }

    @Test
    void aDeclarationOverridesWhatIsLearned() {
        forEachHang(roundTrip(true), report -> {
            String text = report.toText();
            assertTrue(report.cycles().isEmpty(), text);
            assertFalse(text.contains("whoever signalled"), text);
            assertTrue(text.contains("released by declared: nobody"), text);
        });
    }

    @Test
    void aTaskThatSignalledBeforeIsAReleaserWhileItLivesAndANoteOnceItHasExited() {
        InlineScenario s = new InlineScenario("uppers", 200, (ctx, v) -> {
            Platform platform = ctx.platform();
            Semaphore live = new Semaphore(platform, "live-sem", 0);
            Semaphore gone = new Semaphore(platform, "gone-sem", 0);
            Completion never = new Completion(platform, "never");
            Completion upped = new Completion(platform, "upped");
            ctx.spawn("upper", () -> {
                live.up();
                gone.up();
                upped.complete();
                never.waitFor();
            });
            ctx.spawn("exiting-upper", () -> {
                upped.waitFor();
                gone.up();
            });
            ctx.spawn("downer", () -> {
                live.down();
                live.down();
            });
        });
        forEachHang(s, report -> {
            String text = report.toText();
            long upper = report.blocked().stream().filter(b -> b.task().equals("upper")).findFirst().orElseThrow().id();
            assertTrue(anyChain(report, e -> e.startsWith("downer:")
                    && e.endsWith("waits on semaphore live-sem, released by whoever signalled it before: upper:" + upper)), text);
        });
        InlineScenario exited = new InlineScenario("exited", 200, (ctx, v) -> {
            Semaphore sem = new Semaphore(ctx.platform(), "sem", 0);
            ctx.spawn("upper", sem::up);
            ctx.spawn("downer", () -> {
                sem.down();
                sem.down();
            });
        });
        forEachHang(exited, report -> assertTrue(anyChain(report, e -> e.startsWith("downer:")
                && e.contains("released by whoever signalled it before: upper:") && e.endsWith(", which has exited")), report.toText()));
    }

    @Test
    void theWaiterIsNotItsOwnLearnedReleaser() {
        InlineScenario s = new InlineScenario("self", 100, (ctx, v) -> {
            Platform platform = ctx.platform();
            Completion first = new Completion(platform, "first", "same-class");
            Completion second = new Completion(platform, "second", "same-class");
            ctx.spawn("self", () -> {
                first.complete();
                second.waitFor();
            });
        });
        forEachHang(s, report -> {
            assertTrue(report.cycles().isEmpty(), report.toText());
            assertFalse(report.toText().contains("whoever signalled"), report.toText());
        });
    }

    private static boolean anyChain(HangReport report, Predicate<String> edge) {
        return report.chains().stream().anyMatch(c -> c.stream().anyMatch(edge))
                || report.cycles().stream().anyMatch(c -> c.stream().anyMatch(edge));
    }
}
