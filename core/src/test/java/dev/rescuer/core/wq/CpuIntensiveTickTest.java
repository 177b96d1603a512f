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
 * It is marked by the second scan that sees it, not the first: an item's start stamp comes from its
 * pool's tick clock, which may be as old as the last scan when the timer runs late (here the test
 * fires it by hand), so only a run already seen by a scan is known to have lasted a period.
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
                // Its stamp is past the threshold, but this is the first scan that sees it running.
                assertEquals(0, wqs.stats().cpuIntensiveMarked(), "the hog was marked by the first scan that saw it");
                assertTrue(tick.isPending(), "the tick is armed again after its first look at the hog");
                tick.fire();
                assertEquals(1, wqs.stats().cpuIntensiveMarked(), "the hog was marked CPU-intensive");
            } finally {
                release.set(true);
            }
            wq.flush();
            wq.destroy();
        }
    }

    @Test
    void thePeriodIsHalfTheThresholdOrAQuarterOfTheWatchdogsIfThatIsShorter() {
        WorkqueueConfig d = WorkqueueConfig.defaults();
        assertEquals(Duration.ofMillis(5), CpuIntensiveTick.period(d), "the kernel's defaults: half of 10 ms");
        WorkqueueConfig longThreshold = d.withCpuIntensiveThreshold(Duration.ofSeconds(30)).withWatchdogThreshold(Duration.ofSeconds(1));
        assertEquals(Duration.ofMillis(250), CpuIntensiveTick.period(longThreshold), "capped by the watchdog's quarter");
        assertEquals(Duration.ofSeconds(15), CpuIntensiveTick.period(longThreshold.withWatchdogThreshold(Duration.ZERO)),
                "no watchdog, no cap");
        assertEquals(Duration.ofNanos(5), CpuIntensiveTick.period(d.withCpuIntensiveThreshold(Duration.ofNanos(10))
                .withWatchdogThreshold(Duration.ofNanos(3))), "a watchdog quarter that rounds to zero does not cap");
    }
}
