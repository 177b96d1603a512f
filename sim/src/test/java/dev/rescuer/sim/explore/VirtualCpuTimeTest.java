package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.SimPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Running costs virtual CPU time, so timers fire while tasks spin or compute: a polling item whose flag
 * a device interrupt sets completes, and the CPU-intensive tick ({@code wq_worker_tick}, 10 ms) marks
 * a spinning item so that the items queued behind it on its pool run. Both livelocked while the clock
 * stood still for running tasks.
 */
class VirtualCpuTimeTest {

    private static final int SCHEDULES = 10;
    private static final long LIVELOCK_BOUND = 50_000;

    private CarrierPool pool;

    @BeforeEach
    void createPool() {
        pool = new CarrierPool("virtual-cpu-time-test");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    @Test
    void aPollingItemSpinningOnCpuRelaxCompletesWhenADeviceInterruptSetsItsFlag() {
        long[] doneAt = new long[1];
        InlineScenario s = new InlineScenario("poll-device", 100, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("poll").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            boolean[] ready = {false};
            PlatformTimer irq = platform.newTimer("device-irq", () -> ready[0] = true);
            Work poll = new Work("poll", () -> {
                irq.arm(Duration.ofMillis(3)); // start the device, then poll its status register
                while (!ready[0]) {
                    platform.cpuRelax();
                }
                doneAt[0] = platform.nanoTime();
            });
            ctx.spawn("submitter", () -> {
                sys.workqueues().systemWq().queue(poll);
                poll.flush();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                doneAt[0] = -1;
                RunResult r = s.run(kind, i, pool, LIVELOCK_BOUND);
                assertEquals(Outcome.COMPLETED, r.outcome(), kind + " schedule " + i + " (seed " + r.seed() + "): " + r.reason()
                        + (r.report() == null ? "" : "\n" + r.report().toText()));
                assertTrue(doneAt[0] >= 3_000_000, "the poll ended at " + doneAt[0] + " ns, before the device's 3 ms");
            }
        }
    }

    @Test
    void theCpuIntensiveTickMarksASpinningItemSoItsPoolsOtherItemsRun() {
        Task[] ranOn = new Task[2];
        long[] marked = new long[1];
        InlineScenario s = new InlineScenario("spin-on-pool", 200, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("hog").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            WorkQueue wq = sys.workqueues().systemWq();
            boolean[] flag = {false};
            // The spinner waits for an item queued behind it on the same CPU's pool: only the tick,
            // by taking the spinner's worker out of the pool's running count, lets another worker run it.
            Work spinner = new Work("spinner", () -> {
                ranOn[0] = platform.currentTask();
                while (!flag[0]) {
                    platform.cpuRelax();
                }
            });
            Work setter = new Work("setter", () -> {
                ranOn[1] = platform.currentTask();
                flag[0] = true;
            });
            ctx.spawn("submitter", () -> {
                wq.queueOn(0, spinner);
                wq.queueOn(0, setter);
                spinner.flush();
                setter.flush();
                marked[0] = sys.workqueues().stats().cpuIntensiveMarked();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                ranOn[0] = null;
                ranOn[1] = null;
                marked[0] = 0;
                RunResult r = s.run(kind, i, pool, LIVELOCK_BOUND);
                assertEquals(Outcome.COMPLETED, r.outcome(), kind + " schedule " + i + " (seed " + r.seed() + "): " + r.reason()
                        + (r.report() == null ? "" : "\n" + r.report().toText()));
                assertNotNull(ranOn[1]);
                assertNotSame(ranOn[0], ranOn[1], "the setter ran on the spinner's worker, which never returns while it spins");
                assertTrue(marked[0] >= 1, "the tick did not mark the spinner CPU-intensive");
                assertTrue(r.virtualNanos() >= 10_000_000, "the setter ran before the 10 ms threshold: " + r.virtualNanos() + " ns");
            }
        }
    }

    @Test
    void aStreamOfShortItemsIsNeitherMarkedCpuIntensiveNorReportedAsALockup() {
        // Items stamp their start with the pool's tick clock, which the tick refreshes. With a long
        // CPU-intensive threshold the tick's period is capped by the watchdog's, so the stamps of a
        // pool that keeps starting 3 ms items stay fresh enough that the watchdog (20 ms) never sees
        // the pool as stalled, and no 3 ms run is mistaken for a hog by the 10 ms default either.
        for (Duration threshold : new Duration[] {Duration.ofSeconds(60), WorkqueueConfig.defaults().cpuIntensiveThreshold()}) {
            List<String> lockups = new ArrayList<>();
            long[] marked = new long[1];
            int[] ran = new int[1];
            InlineScenario s = new InlineScenario("short-stream", 400, (ctx, v) -> {
                RescuerSystem sys = ctx.system(RescuerSystem.builder().name("stream").totalPages(4096)
                        .workqueues(WorkqueueConfig.defaults().withCpus(1)
                                .withCpuIntensiveThreshold(threshold)
                                .withWatchdogThreshold(Duration.ofMillis(20))));
                sys.workqueues().onLockup(report -> lockups.add(report.toString()));
                Platform platform = ctx.platform();
                WorkQueue wq = sys.workqueues().systemWq();
                Work[] items = new Work[15];
                for (int i = 0; i < items.length; i++) {
                    boolean[] ready = {false};
                    PlatformTimer irq = platform.newTimer("irq-" + i, () -> ready[0] = true);
                    items[i] = new Work("short-" + i, () -> {
                        irq.arm(Duration.ofMillis(3));
                        while (!ready[0]) {
                            platform.cpuRelax();
                        }
                        ran[0]++;
                    });
                }
                ctx.spawn("submitter", () -> {
                    for (Work w : items) {
                        wq.queueOn(0, w);
                    }
                    for (Work w : items) {
                        w.flush();
                    }
                    marked[0] = sys.workqueues().stats().cpuIntensiveMarked();
                });
            });
            for (StrategyKind kind : StrategyKind.values()) {
                for (int i = 0; i < SCHEDULES; i++) {
                    lockups.clear();
                    marked[0] = -1;
                    ran[0] = 0;
                    RunResult r = s.run(kind, i, pool, LIVELOCK_BOUND);
                    String where = "threshold " + threshold + ", " + kind + " schedule " + i + " (seed " + r.seed() + ")";
                    assertEquals(Outcome.COMPLETED, r.outcome(), where + ": " + r.reason()
                            + (r.report() == null ? "" : "\n" + r.report().toText()));
                    assertEquals(15, ran[0], where);
                    assertEquals(List.of(), lockups, where + ": the watchdog reported a pool that started an item every 3 ms");
                    assertEquals(0, marked[0], where + ": a 3 ms item was marked CPU-intensive");
                }
            }
        }
    }

    @Test
    void theHungTaskDetectorReportsATaskFlushingAnItemThatSpinsForever() {
        InlineScenario s = new InlineScenario("spin-forever", 100, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("forever").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            Work spinner = new Work("spin-forever", () -> {
                while (true) {
                    platform.cpuRelax();
                }
            });
            ctx.spawn("flusher", () -> {
                sys.workqueues().systemWq().queue(spinner);
                spinner.flush();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            RunResult r = s.run(kind, 0, pool, ExploreOptions.DEFAULT_LIVELOCK_BOUND);
            assertEquals(SimPlatform.StopKind.HUNG_TASK, r.stop(), kind + ": " + r.reason());
            assertTrue(r.reason().contains("flusher"), r.reason());
            assertTrue(r.virtualNanos() > 120_000_000_000L, "reported after " + r.virtualNanos() + " ns");
            String text = r.report().toText();
            assertTrue(text.lines().anyMatch(l -> l.contains("spinning in cpu_relax") && l.contains("spin-forever")),
                    "the report does not show the spinning worker:\n" + text);
        }
    }

    @Test
    void twoSpinnersUnderPctDoNotStarveTheTimerTheyWaitFor() {
        // PCT keeps running its highest-priority task; with two spinners, each at cpuRelax in turn, a
        // due timer must still get its turn: spinners run only when nothing else can.
        InlineScenario s = new InlineScenario("two-spinners", 50, (ctx, v) -> {
            Platform platform = ctx.platform();
            boolean[] ready = {false};
            platform.newTimer("irq", () -> ready[0] = true).arm(Duration.ofMillis(1));
            for (String name : new String[] {"spin-a", "spin-b"}) {
                ctx.spawn(name, () -> {
                    while (!ready[0]) {
                        platform.cpuRelax();
                    }
                });
            }
        });
        for (int i = 0; i < 20; i++) {
            RunResult r = s.run(StrategyKind.PCT, i, pool, LIVELOCK_BOUND);
            assertEquals(Outcome.COMPLETED, r.outcome(), "schedule " + i + " (seed " + r.seed() + "): " + r.reason());
            assertTrue(r.virtualNanos() >= 1_000_000 && r.virtualNanos() < 1_000_000 + 20 * SimPlatform.STEP_NANOS,
                    "spinners only: the clock jumps to the timer; ended at " + r.virtualNanos() + " ns");
        }
    }
}
