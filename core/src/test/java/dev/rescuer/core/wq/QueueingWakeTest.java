package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.ForwardingPlatform;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.rescuer.core.wq.WqTesting.settledIdleWorkers;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The queueing paths that take the pool lock and kick an idle worker (a push onto an unwatched
 * inbox, and the locked path of a queue without an inbox) mark that worker kicked under the lock
 * and wake it only after they drop the lock ({@link WorkerPool#deferWakes()}, a {@code wake_q}):
 * the woken worker's first step is to take that lock.
 */
class QueueingWakeTest {

    /** Notes, for every wake-up of a pool worker the test's own task asks for, whether it held the pool lock. */
    private static final class WakeUnderLockPlatform extends ForwardingPlatform {
        volatile WorkerPool pool;
        volatile Task waker;
        final List<Boolean> lockHeld = new CopyOnWriteArrayList<>();

        @Override
        public void wake(Task task) {
            WorkerPool p = pool;
            if (p != null && currentTask() == waker && task.name().startsWith("kworker/")) {
                lockHeld.add(p.lock.isHeldByCurrentThread());
            }
            super.wake(task);
        }
    }

    private static RescuerSystem system(WakeUnderLockPlatform platform) {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofSeconds(30));
        return RescuerSystem.builder().platform(platform).totalPages(8192).workqueues(cfg).build();
    }

    /** Queues one item from this task onto {@code wq} while the pool's workers sleep idle, and waits for it to run. */
    private static void queueOneOntoIdlePool(RescuerSystem sys, WakeUnderLockPlatform platform, WorkQueue wq,
                                             String workerPrefix) throws InterruptedException {
        wq.queue(new Work("warm-up", () -> { })); // the first worker creates its reserve as it leaves idle
        wq.flush();
        Poll.until("settled idle workers", () -> settledIdleWorkers(sys, workerPrefix) >= 2);
        CountDownLatch ran = new CountDownLatch(1);
        platform.waker = platform.currentTask();
        try {
            assertTrue(wq.queue(new Work("w", ran::countDown)));
        } finally {
            platform.waker = null;
        }
        assertTrue(ran.await(30, TimeUnit.SECONDS), "the item ran");
    }

    @Test
    void aPushOntoAnUnwatchedInboxWakesTheKickedWorkerAfterDroppingThePoolLock() throws InterruptedException {
        try (WakeUnderLockPlatform platform = new WakeUnderLockPlatform(); RescuerSystem sys = system(platform)) {
            WorkQueue wq = sys.workqueues().create("inboxwake", 0);
            WorkerPool pool = sys.workqueues().cpuPool(0, false);
            assertTrue(wq.pwqFor(0).usesInbox(), "a per-CPU queue pushes onto its pwq's inbox");
            platform.pool = pool;
            queueOneOntoIdlePool(sys, platform, wq, "kworker/0:");
            assertEquals(List.of(false), platform.lockHeld,
                    "the push found nobody watching, linked under the lock and kicked one idle worker, woken after the unlock");
            wq.destroy();
        }
    }

    @Test
    void theLockedQueueingPathWakesTheKickedWorkerAfterDroppingThePoolLock() throws InterruptedException {
        try (WakeUnderLockPlatform platform = new WakeUnderLockPlatform(); RescuerSystem sys = system(platform)) {
            WorkQueue wq = sys.workqueues().create("lockedwake", 0, WqFlag.FREEZABLE);
            assertFalse(wq.pwqFor(0).usesInbox(), "a freezable queue takes the locked path");
            platform.pool = wq.pwqFor(0).pool;
            queueOneOntoIdlePool(sys, platform, wq, "kworker/0:");
            assertEquals(List.of(false), platform.lockHeld,
                    "the locked path kicked one idle worker, woken after the unlock");
            wq.destroy();
        }
    }
}
