package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker blocked outside the platform (here a JDK latch, which the platform cannot see) is treated
 * as sleeping by concurrency management once the tick finds it so, and as running again once a tick
 * finds it running.
 */
class BlockedOutsidePlatformTest {

    @Test
    void aWorkerBlockedInJdkCodeLetsTheNextItemRunAndCountsAgainWhenItRuns() throws Exception {
        // The tick comes every 100 ms; a run this long would be marked CPU-intensive only after 200 ms.
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofMillis(200));
        try (ControlledPlatform platform = new ControlledPlatform();
             RescuerSystem sys = RescuerSystem.builder().platform(platform).totalPages(8192).workqueues(cfg).build()) {
            WorkQueue wq = sys.workqueues().create("jdk_blocking", 0);
            CountDownLatch latch = new CountDownLatch(1);
            AtomicBoolean stillBlocked = new AtomicBoolean(true);
            AtomicBoolean finish = new AtomicBoolean();
            Work blocker = new Work("jdk_blocker", () -> {
                try {
                    latch.await(); // invisible to the platform
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                WqTesting.spinUntil(finish::get, WqTesting.PATIENCE);
            });
            AtomicReference<Worker> blockerWorker = new AtomicReference<>();
            platform.blockedOutsideWhen(t -> {
                Worker w = Workqueues.currentWorker(t);
                if (w != null && w.currentWork == blocker) {
                    blockerWorker.set(w);
                    return stillBlocked.get();
                }
                return false;
            });
            AtomicBoolean followerRan = new AtomicBoolean();
            try {
                assertTrue(wq.queueOn(0, blocker));
                assertTrue(wq.queueOn(0, new Work("follower", () -> followerRan.set(true))));
                Poll.until("the follower ran while the blocker is blocked in the JDK", followerRan::get);
                assertEquals(1, latch.getCount(), "the blocker is still blocked");
                assertEquals(0, sys.workqueues().stats().cpuIntensiveMarked(),
                        "the follower ran because the blocker was seen blocked, not because it ran too long");
                assertEquals(1, sys.workqueues().stats().blockedOutside());
                Worker w = blockerWorker.get();
                assertNotNull(w);
                WorkerPool pool = w.pool;
                assertTrue(locked(pool, () -> w.sleeping && w.blockedOutside), "counted as sleeping");
                String dump = sys.workqueues().dump();
                assertTrue(dump.contains("jdk_blocker for") && dump.contains("(blocked outside the platform)"), dump);

                // It runs again (spinning, no longer blocked): a later tick counts it as running.
                stillBlocked.set(false);
                latch.countDown();
                Poll.until("counted as running again", () -> locked(pool, () -> !w.sleeping && !w.blockedOutside));
            } finally {
                latch.countDown();
                finish.set(true);
            }
            wq.flush();
            wq.destroy();
        }
    }

    private static boolean locked(WorkerPool pool, java.util.function.BooleanSupplier s) {
        pool.lock.lock();
        try {
            return s.getAsBoolean();
        } finally {
            pool.lock.unlock();
        }
    }
}
