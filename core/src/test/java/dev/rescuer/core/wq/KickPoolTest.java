package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The kick and the running count: a kick wakes the first idle worker and not again while that one is
 * on its way ({@code kick_pool}); the count that the sleep hook drops under the pool lock and the wake
 * hook raises without it comes back to exactly zero, also with the CPU-intensive tick marking workers.
 */
class KickPoolTest {

    @Test
    void aKickWhileTheKickedWorkerIsOnItsWayWakesNobodyAgain() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofSeconds(30));
        try (ControlledPlatform platform = new ControlledPlatform();
             RescuerSystem sys = RescuerSystem.builder().platform(platform).totalPages(8192).workqueues(cfg).build()) {
            WorkQueue wq = sys.workqueues().create("kick", 0);
            WorkerPool pool = sys.workqueues().cpuPool(0, false);
            Poll.until("the pool's first worker idle", () -> settledIdleWorkers(sys, "kworker/0:") >= 1);
            Worker first;
            pool.lock.lock();
            try {
                first = pool.idleList.peekFirst();
            } finally {
                pool.lock.unlock();
            }
            platform.holdWakesOf(t -> t.name().startsWith("kworker/0:"));
            int wakesBefore = platform.wakeCount(first.task);
            AtomicBoolean ran = new AtomicBoolean();
            try {
                assertTrue(wq.queue(new Work("w", () -> ran.set(true)))); // no worker runs: kick the first idle one
                assertEquals(wakesBefore + 1, platform.wakeCount(first.task), "the queueing kicked the first idle worker");
                pool.lock.lock();
                try {
                    assertTrue(pool.needMoreWorker(), "the item still waits and nobody runs");
                    assertSame(first, pool.idleList.peekFirst(), "the kicked worker has not left the idle list yet");
                    pool.kick(); // as a second sleeping worker's hook would
                } finally {
                    pool.lock.unlock();
                }
                assertEquals(wakesBefore + 1, platform.wakeCount(first.task), "the worker already on its way is not woken again");
            } finally {
                platform.releaseWakes();
            }
            Poll.until("the item runs", ran::get);
            wq.destroy();
        }
    }

    @Test
    void theRunningCountReturnsToZeroAfterSleepsWakesAndCpuIntensiveMarks() {
        // A threshold short enough that the tick marks some items CPU_INTENSIVE between their sleeps.
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofMillis(2));
        try (RescuerSystem sys = system(cfg)) {
            WorkQueue wq = sys.workqueues().create("count", 0);
            AtomicInteger done = new AtomicInteger();
            int pairs = 300;
            for (int i = 0; i < pairs; i++) {
                Completion c = new Completion(sys.platform(), "pair" + i);
                boolean hog = i % 50 == 0;
                wq.queue(new Work("waiter" + i, () -> {
                    c.waitFor();
                    if (hog) {
                        spinUntil(() -> false, Duration.ofMillis(5)); // past the threshold, after a wake
                    }
                    done.incrementAndGet();
                }));
                wq.queue(new Work("signaller" + i, () -> {
                    c.complete();
                    done.incrementAndGet();
                }));
            }
            wq.flush();
            assertEquals(2 * pairs, done.get());
            WorkerPool pool = sys.workqueues().cpuPool(0, false);
            Poll.until("every worker of the pool idle", () -> {
                pool.lock.lock();
                try {
                    return pool.busyHash.isEmpty() && pool.idleList.size() == pool.nrWorkers();
                } finally {
                    pool.lock.unlock();
                }
            });
            pool.lock.lock();
            try {
                assertEquals(0, pool.nrRunning.get(), "no worker runs, so none is counted");
            } finally {
                pool.lock.unlock();
            }

            wq.destroy();
        }
    }
}
