package dev.rescuer.sim.scenarios;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The dm-snapshot COW throttle deadlock of 2019 (reference S1), in its smallest instance: a throttle of
 * one copy in flight, two origin writers, one snapshot constructor and the kcopyd completion work.
 *
 * <p>An origin write takes {@code _origins_lock} for read ({@code do_origin}), then a throttle slot for
 * its copy-on-write copy ({@code start_copy}). The copy completes on the device and kcopyd's work
 * ({@code copy_callback} → {@code pending_complete}) takes {@code _origins_lock} for read to retry the
 * origin bios, then gives the slot back. {@code lvcreate} ({@code snapshot_ctr}) takes the lock for
 * write.
 *
 * <ul>
 *   <li>{@code semaphore-under-lock} (commit 721b1d98): the slot is a semaphore taken while the read
 *       lock is held. A writer sleeping on it keeps the read lock; {@code lvcreate} queues behind it;
 *       writer preference then blocks the completion's read lock, and the completion was the only one
 *       who could give the slot back.
 *   <li>{@code wait-unlocked} (commit b21555786f18): the slot is a counter and a wait queue; a writer
 *       that must wait drops the read lock first and retries, and the completion path is never
 *       throttled. Every schedule completes.
 * </ul>
 *
 * <p>Every timer (the copy's completion on the device among them) fires up to {@link #TIMER_JITTER}
 * late, drawn from the run's fault stream.
 */
public final class CowThrottle implements Scenario {

    static final int WRITERS = 2;
    static final int WRITES_PER_WRITER = 2;
    static final int COW_THRESHOLD = 1;
    static final Duration COPY_LATENCY = Duration.ofMillis(1);

    static final Duration TIMER_JITTER = Duration.ofMillis(3);

    private static final List<Variant> VARIANTS = List.of(
            new Variant("semaphore-under-lock", "throttle is a semaphore taken under _origins_lock (2019 bug)", Variant.Expectation.HANGS),
            new Variant("wait-unlocked", "throttle is a counter and wait queue; wait after dropping the lock (the fix)", Variant.Expectation.COMPLETES));

    @Override
    public String name() {
        return "cow-throttle";
    }

    @Override
    public String description() {
        return "dm-snapshot origin writers throttle copy-on-write copies under _origins_lock; lvcreate takes it "
                + "for write; kcopyd's completion needs it for read before releasing the throttle.";
    }

    @Override
    public List<Variant> variants() {
        return VARIANTS;
    }

    @Override
    public long estimatedSteps() {
        return 150;
    }

    /** A COW throttle: what {@code start_copy} and the completion path do. */
    interface Throttle {
        /** Takes a slot in {@code do_origin}, with {@code _origins_lock} read-held; may drop and retake it. */
        void acquireUnderOriginsLock();

        /** Gives a slot back, from the copy completion. */
        void release();
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        RescuerSystem sys = ctx.system(RescuerSystem.builder().name("snap").totalPages(4096)
                .workqueues(WorkqueueConfig.defaults().withCpus(2)));
        ctx.faults().timerLatency(TIMER_JITTER); // devices and timers are not punctual
        Platform platform = ctx.platform();
        RwSemaphore origins = new RwSemaphore(platform, "_origins_lock");
        WorkQueue kcopyd = sys.workqueues().create("kcopyd", 0, WqFlag.MEM_RECLAIM);
        List<Task> completers = new ArrayList<>();
        Throttle throttle;
        switch (variant.name()) {
            case "semaphore-under-lock": {
                Semaphore cowCount = new Semaphore(platform, "snap0/cow_count", "&s->cow_count", COW_THRESHOLD);
                throttle = new Throttle() {
                    @Override public void acquireUnderOriginsLock() { cowCount.down(); }
                    @Override public void release() { cowCount.up(); }
                };
                ctx.releasers(cowCount, () -> completers.stream().map(Releaser::task).toList());
                break;
            }
            case "wait-unlocked": {
                WaitQueue inProgressWait = new WaitQueue(platform, "snap0/in_progress_wait", "&s->in_progress_wait");
                int[] inProgress = {0};
                throttle = new Throttle() {
                    @Override
                    public void acquireUnderOriginsLock() {
                        while (inProgress[0] >= COW_THRESHOLD) { // wait_for_in_progress(s, true)
                            origins.upRead();
                            inProgressWait.waitEvent(() -> inProgress[0] < COW_THRESHOLD);
                            origins.downRead();
                        }
                        inProgress[0]++;
                    }

                    @Override
                    public void release() {
                        inProgress[0]--;
                        inProgressWait.wakeUp();
                    }
                };
                ctx.releasers(inProgressWait, () -> completers.stream().map(Releaser::task).toList());
                break;
            }
            default:
                throw new IllegalArgumentException("unknown variant " + variant.name());
        }
        int[] copiesDone = {0};
        WaitQueue copyWait = new WaitQueue(platform, "snap0/copy_wait");
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            ctx.spawn("drbd_r/" + w, () -> {
                for (int i = 0; i < WRITES_PER_WRITER; i++) {
                    int id = writer * WRITES_PER_WRITER + i;
                    Work complete = new Work("copy_callback#" + id, () -> {
                        completers.add(platform.currentTask());
                        origins.downRead();  // pending_complete -> retry_origin_bios -> do_origin
                        origins.upRead();
                        throttle.release();  // account_end_copy
                        completers.remove(platform.currentTask());
                        copiesDone[0]++;
                        copyWait.wakeUpAll();
                        ctx.progress();
                    });
                    PlatformTimer copyIo = platform.newTimer("kcopyd-io#" + id, () -> kcopyd.queue(complete));
                    origins.downRead();                // do_origin
                    throttle.acquireUnderOriginsLock(); // start_copy -> account_start_copy
                    copyIo.arm(COPY_LATENCY);          // kcopyd copies the chunk
                    origins.upRead();
                }
            });
        }
        ctx.spawn("lvcreate", () -> {
            origins.downWrite(); // snapshot_ctr -> register_snapshot
            origins.upWrite();
        });
        ctx.spawn("sync", () -> copyWait.waitEvent(() -> copiesDone[0] == WRITERS * WRITES_PER_WRITER));
        ctx.invariant("every copy completed once", () -> copiesDone[0] == WRITERS * WRITES_PER_WRITER);
    }
}
