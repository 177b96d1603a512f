package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * S1 (the dm-snapshot COW throttle, the sim scenario {@code cow-throttle}) on JVM threads, in a run
 * that cannot hang: each origin write waits for its copy's completion before the next starts, and
 * lvcreate runs after the writers. The validator still reports the cycle of the 2019 code and
 * nothing for the fix.
 */
class CowThrottleOnRealThreadsTest {

    private RealPlatform platform;
    private Validator validator;
    private RescuerSystem sys;

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        validator = Validator.attach(platform);
        sys = RescuerSystem.builder().platform(platform).hungTaskTimeout(Duration.ZERO).build();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        platform.close();
    }

    private void run(String name, Runnable body) {
        Task t = platform.startThread(name, body);
        platform.join(t);
        assertNull(t.failure(), name + " failed");
    }

    /** The throttle's two sides: taken under the read lock by an origin write; given back by the copy's completion. */
    private interface Throttle {
        void acquireUnderOriginsLock();

        void release();
    }

    private void originWritesThenLvcreate(RwSemaphore origins, Throttle throttle) {
        WorkQueue kcopyd = sys.workqueues().create("kcopyd", 0, WqFlag.MEM_RECLAIM);
        for (int w = 0; w < 2; w++) {
            run("drbd_r/" + w, () -> {
                Work copyCallback = new Work("copy_callback", () -> {
                    origins.downRead(); // pending_complete -> retry_origin_bios -> do_origin
                    origins.upRead();
                    throttle.release();
                });
                origins.downRead();                 // do_origin
                throttle.acquireUnderOriginsLock(); // start_copy
                kcopyd.queue(copyCallback);         // the copy completes at once
                origins.upRead();
                copyCallback.flush();               // one write at a time: nothing can hang
            });
        }
        run("lvcreate", () -> { origins.downWrite(); origins.upWrite(); });
    }

    @Test
    void theSemaphoreUnderTheReadLockIsReported() {
        RwSemaphore origins = new RwSemaphore(platform, "_origins_lock");
        Semaphore cowCount = new Semaphore(platform, "snap0/cow_count", "&s->cow_count", 1);
        originWritesThenLvcreate(origins, new Throttle() {
            @Override public void acquireUnderOriginsLock() { cowCount.down(); }
            @Override public void release() { cowCount.up(); }
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("&s->cow_count", "_origins_lock"),
                cycles.get(0).classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
    }

    @Test
    void waitingAfterDroppingTheLockIsClean() {
        RwSemaphore origins = new RwSemaphore(platform, "_origins_lock");
        WaitQueue inProgressWait = new WaitQueue(platform, "snap0/in_progress_wait", "&s->in_progress_wait");
        int[] inProgress = {0};
        originWritesThenLvcreate(origins, new Throttle() {
            @Override
            public void acquireUnderOriginsLock() {
                while (inProgress[0] >= 1) { // wait_for_in_progress: drop the lock, wait, retake it
                    origins.upRead();
                    inProgressWait.waitEvent(() -> inProgress[0] < 1);
                    origins.downRead();
                }
                inProgress[0]++;
            }

            @Override
            public void release() {
                inProgress[0]--;
                inProgressWait.wakeUp();
            }
        });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }
}
