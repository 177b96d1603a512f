package dev.rescuer.sim;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkBusy;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-CPU pwq's lock-free inbox under the simulator, so that every interleaving of a push with
 * the drains (worker loop, cancel, flush, drain, destroy) is reproducible from its seed. While a
 * worker of the pool runs, a queued item waits in the inbox until someone holding the pool lock
 * looks; each test keeps a worker running (items that pass scheduling points without sleeping) while
 * other tasks push and look, and checks the guarantee that look must keep.
 */
class WorkqueueInboxOnSimTest {

    private static final int SEEDS = 60;

    /** A system of {@code cpus} per-CPU pools whose CPU-intensive tick does not fire within a run. */
    private static RescuerSystem system(SimPlatform sim, int cpus) {
        return RescuerSystem.builder().platform(sim).totalPages(1024)
                .workqueues(WorkqueueConfig.defaults().withCpus(cpus).withCpuIntensiveThreshold(Duration.ofSeconds(60)))
                .build();
    }

    private static void joinAll(SimPlatform sim, List<Task> tasks) {
        for (Task t : tasks) {
            sim.join(t);
        }
    }

    @Test
    void aCancelFindsAnItemInTheInboxWhileAnotherPushRacesIt() {
        String[] broken = {null};
        SeededRuns.forSeeds("sim-inbox-cancel", SEEDS, (sim, seed) -> {
            RescuerSystem sys = system(sim, 1);
            WorkQueue wq = sys.workqueues().create("inbox", 0);
            boolean[] release = {false};
            boolean[] started = {false};
            int[] runs = new int[2];
            assertTrue(wq.queueOn(0, new Work("busy", () -> {
                started[0] = true;
                while (!release[0]) {
                    sim.preemptionPoint(); // runs without sleeping: the worker stays counted as running
                }
            })));
            while (!started[0]) {
                sim.preemptionPoint();
            }
            assertTrue(wq.queueOn(0, new Work("linked", () -> { }))); // leaves the inbox watched
            Work x = new Work("x", () -> runs[0]++);
            assertTrue(wq.queueOn(0, x)); // lands in the inbox: the worker is busy
            boolean[] cancelled = {false};
            // The busy item ends only after the cancel: the cancel must find the item in the inbox
            // (retrying until the worker comes back would never end).
            Task canceller = sim.startThread("canceller", () -> {
                cancelled[0] = x.cancel();
                release[0] = true;
            });
            Task pusher = sim.startThread("pusher", () -> wq.queueOn(0, new Work("y", () -> runs[1]++)));
            joinAll(sim, List.of(canceller, pusher));
            wq.flush();
            if (!cancelled[0] || runs[0] != 0 || x.isPending() || runs[1] != 1) {
                broken[0] = "seed " + seed + ": cancelled=" + cancelled[0] + " x ran " + runs[0] + " pending=" + x.isPending()
                        + " y ran " + runs[1];
            }
            wq.destroy();
            sys.close();
        }, () -> assertEquals(null, broken[0]));
    }

    @Test
    void aFlushWaitsForEveryItemWhoseQueueingReturnedBeforeIt() {
        String[] broken = {null};
        SeededRuns.forSeeds("sim-inbox-flush", SEEDS, (sim, seed) -> {
            RescuerSystem sys = system(sim, 2);
            WorkQueue wq = sys.workqueues().create("inbox", 0);
            List<boolean[]> accepted = new ArrayList<>();
            List<Task> tasks = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                int cpu = p;
                tasks.add(sim.startThread("producer-" + p, () -> {
                    for (int i = 0; i < 6; i++) {
                        boolean[] ran = {false};
                        assertTrue(wq.queueOn(cpu, new Work("item", () -> {
                            sim.preemptionPoint(); // the worker runs while producers push
                            ran[0] = true;
                        })));
                        accepted.add(ran);
                    }
                }));
            }
            for (int f = 0; f < 2; f++) {
                tasks.add(sim.startThread("flusher-" + f, () -> {
                    for (int r = 0; r < 2; r++) {
                        List<boolean[]> before = new ArrayList<>(accepted);
                        wq.flush();
                        for (boolean[] ran : before) {
                            if (!ran[0] && broken[0] == null) {
                                broken[0] = "seed " + seed + ": a flush returned before an item queued before it had run";
                            }
                        }
                    }
                }));
            }
            joinAll(sim, tasks);
            wq.destroy();
            sys.close();
        }, () -> assertEquals(null, broken[0]));
    }

    @Test
    void drainAndDestroyRacingPushesRunEveryAcceptedItemOnceAndRefuseTheRest() {
        String[] broken = {null};
        int[] refusedTotal = {0};
        SeededRuns.forSeeds("sim-inbox-destroy", SEEDS, (sim, seed) -> {
            RescuerSystem sys = system(sim, 2);
            WorkQueue wq = sys.workqueues().create("inbox", 0);
            List<int[]> accepted = new ArrayList<>();
            boolean[] destroyed = {false};
            List<Task> tasks = new ArrayList<>();
            for (int p = 0; p < 3; p++) {
                int cpu = p % 2;
                tasks.add(sim.startThread("producer-" + p, () -> {
                    for (int i = 0; i < 8; i++) {
                        int[] runs = {0};
                        Work w = new Work("item", () -> {
                            sim.preemptionPoint();
                            if (destroyed[0] && broken[0] == null) {
                                broken[0] = "seed " + seed + ": an item ran after destroy returned";
                            }
                            runs[0]++;
                        });
                        try {
                            if (wq.queueOn(cpu, w)) {
                                accepted.add(runs);
                            }
                        } catch (IllegalStateException refused) {
                            refusedTotal[0]++;
                        }
                    }
                }));
            }
            tasks.add(sim.startThread("drainer", () -> {
                List<int[]> before = new ArrayList<>(accepted);
                wq.drain();
                for (int[] runs : before) {
                    if (runs[0] != 1 && broken[0] == null) {
                        broken[0] = "seed " + seed + ": drain returned before an item accepted before it had run";
                    }
                }
                wq.destroy();
                destroyed[0] = true;
                for (int[] runs : accepted) {
                    if (runs[0] != 1 && broken[0] == null) {
                        broken[0] = "seed " + seed + ": destroy returned with an accepted item not run once (" + runs[0] + ")";
                    }
                }
            }));
            joinAll(sim, tasks);
            for (int[] runs : accepted) {
                if (runs[0] != 1 && broken[0] == null) {
                    broken[0] = "seed " + seed + ": an accepted item ran " + runs[0] + " times";
                }
            }
            sys.close();
        }, () -> assertEquals(null, broken[0]));
        assertTrue(refusedTotal[0] > 0, "no push was ever refused: the test does not race destroy");
    }

    @Test
    void noItemIsLostWhenTheLastWorkerIdlesWhilePushesRace() {
        // Two producers push bursts onto one pool whose only busy worker keeps running dry and
        // idling; the init task waits on a completion the last item signals, never draining: an
        // item left in an inbox with no worker on its way would leave it waiting, and the run hung
        // (the watchdog, which drains every inbox as it looks, is off: it would hide the loss).
        SeededRuns.forSeeds("sim-inbox-idle-race", SEEDS, (sim, seed) -> {
            RescuerSystem sys = RescuerSystem.builder().platform(sim).totalPages(1024)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofSeconds(60))
                            .withWatchdogThreshold(Duration.ZERO))
                    .build();
            WorkQueue wq = sys.workqueues().create("inbox", 0);
            int items = 2 * 6;
            int[] left = {items};
            Completion all = new Completion(sim, "all ran", "completion");
            List<Task> tasks = new ArrayList<>();
            for (int p = 0; p < 2; p++) {
                tasks.add(sim.startThread("producer-" + p, () -> {
                    for (int i = 0; i < items / 2; i++) {
                        assertTrue(wq.queueOn(0, new Work("item", () -> {
                            if (--left[0] == 0) {
                                all.complete();
                            }
                        })));
                        sim.preemptionPoint(); // the worker may run dry and idle between pushes
                    }
                }));
            }
            all.waitFor();
            joinAll(sim, tasks);
            wq.destroy();
            sys.close();
        }, () -> { });
    }

    @Test
    void aCancelRacingTheWorkersBatchEitherTakesTheItemBackOrItRunsOnce() {
        String[] broken = {null};
        int[] cancelledTotal = {0};
        SeededRuns.forSeeds("sim-inbox-batch-cancel", SEEDS, (sim, seed) -> {
            RescuerSystem sys = system(sim, 1);
            WorkQueue wq = sys.workqueues().create("inbox", 0);
            int[] xRuns = {0};
            boolean[] xQueued = {false};
            Work x = new Work("x", () -> xRuns[0]++);
            Task producer = sim.startThread("producer", () -> {
                for (int i = 0; i < 3; i++) {
                    assertTrue(wq.queueOn(0, new Work("a" + i, sim::preemptionPoint)));
                }
                assertTrue(wq.queueOn(0, x));
                xQueued[0] = true;
                assertTrue(wq.queueOn(0, new Work("b", sim::preemptionPoint)));
            });
            boolean[] cancelled = {false};
            Task canceller = sim.startThread("canceller", () -> {
                for (int i = 0; i < 4 && !cancelled[0]; i++) {
                    sim.preemptionPoint();
                    // No scheduling point from here to the grab: queued, not executing (a worker
                    // that took it has it in its busy hash before its body runs) and not run means
                    // the item waits in the inbox, on the worklist or in the worker's batch.
                    boolean mustTakeIt = xQueued[0] && xRuns[0] == 0 && !x.busy().contains(WorkBusy.RUNNING);
                    cancelled[0] = x.cancel();
                    if (mustTakeIt && !cancelled[0] && broken[0] == null) {
                        broken[0] = "seed " + seed + ": a cancel did not take back x, queued and not started";
                    }
                }
            });
            joinAll(sim, List.of(producer, canceller));
            wq.flush();
            if (cancelled[0]) {
                cancelledTotal[0]++;
            }
            if (cancelled[0] ? xRuns[0] != 0 : xRuns[0] != 1) {
                broken[0] = "seed " + seed + ": cancelled=" + cancelled[0] + " but x ran " + xRuns[0] + " times";
            }
            wq.destroy();
            sys.close();
        }, () -> assertEquals(null, broken[0]));
        assertTrue(cancelledTotal[0] > 0, "no cancel ever took x back: the test does not race the batch");
    }
}
