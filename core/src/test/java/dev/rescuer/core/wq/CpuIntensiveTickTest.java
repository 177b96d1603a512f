package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The CPU-intensive tick is not lost when an item starts while the tick is being disarmed: the tick
 * scans, finds no busy pool, an item starts on a pool already scanned, and only then does the tick
 * finish. That item must still be watched (the timer armed again), so that it is marked CPU-intensive.
 */
class CpuIntensiveTickTest {

    @Test
    void anItemStartingWhileTheTickIsBeingDisarmedIsStillWatched() throws Exception {
        // A threshold any run is past by the time the test fires the tick by hand.
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(2).withCpuIntensiveThreshold(Duration.ofNanos(1));
        try (ControlledPlatform platform = new ControlledPlatform("wq_tick");
             RescuerSystem sys = RescuerSystem.builder().platform(platform).totalPages(8192).workqueues(cfg).build()) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("hog", 0);
            ControlledPlatform.ManualTimer tick = platform.manualTimer();
            assertNotNull(tick);
            Work quick = new Work("quick", () -> { });
            assertTrue(wq.queueOn(0, quick));
            wq.flush();
            Poll.until("the tick armed by the first item", tick::isPending);

            // The tick runs on its own thread and is held after scanning CPU 0's pools: the test
            // holds the lock of a pool it scans later.
            WorkerPool later = wqs.cpuPool(1, true);
            later.lock.lock();
            Thread tickThread;
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean hogStarted = new AtomicBoolean();
            Work hog = new Work("hog_item", () -> {
                hogStarted.set(true);
                WqTesting.spinUntil(release::get, WqTesting.PATIENCE);
            });
            try {
                tickThread = new Thread(tick::fire, "test-tick");
                tickThread.start();
                Poll.until("the tick spins on the held pool lock",
                        () -> Arrays.stream(tickThread.getStackTrace()).anyMatch(f -> f.getMethodName().equals("lockContended")));
                assertTrue(wq.queueOn(0, hog)); // CPU 0 was scanned already and found idle
                Poll.until("the hog runs", hogStarted::get);
                Poll.until("the hog is in the busy hash", () -> wqs.cpuPool(0, false).isExecuting(hog));
            } finally {
                later.lock.unlock();
            }
            try {
                tickThread.join(WqTesting.PATIENCE.toMillis());
                assertFalse(tickThread.isAlive());
                assertTrue(tick.isPending(), "the tick is armed again, so the running item is still watched");
                tick.fire();
                assertEquals(1, wqs.stats().cpuIntensiveMarked(), "the hog was marked CPU-intensive");
            } finally {
                release.set(true);
            }
            wq.flush();
            wq.destroy();
        }
    }
}
