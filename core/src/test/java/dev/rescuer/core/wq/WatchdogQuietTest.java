package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.debug.HungTaskReport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The workqueue watchdog and the hung-task detector stay quiet on a healthy busy system, whatever the
 * scheduling; and the same watchdog does speak up once a pool really stalls, so its silence means
 * something.
 */
class WatchdogQuietTest {

    /**
     * Long enough that a healthy pool is never starved of the CPU for that long by the machine's load
     * (at 200 ms a loaded 2-core machine made a healthy unbound pool look stuck for 0.212 s).
     */
    private static final Duration THRESHOLD = Duration.ofSeconds(1);

    @Test
    void watchdogStaysQuietOnAHealthyBusySystemAndReportsARealStall() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(2).withWatchdogThreshold(THRESHOLD)
                .withCpuIntensiveThreshold(Duration.ofSeconds(30));
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(8192).workqueues(cfg).hungTaskTimeout(THRESHOLD).build()) {
            Workqueues wqs = sys.workqueues();
            List<LockupReport> lockups = new CopyOnWriteArrayList<>();
            List<HungTaskReport> hung = new CopyOnWriteArrayList<>();
            wqs.onLockup(lockups::add);
            sys.hungTaskDetector().onHungTask(hung::add);
            WorkQueue percpu = wqs.create("busy", 0);
            WorkQueue unbound = wqs.create("busy_unbound", 0, WqFlag.UNBOUND);
            WorkQueue[] queues = {percpu, unbound, wqs.systemWq(), wqs.systemHighpriWq(), wqs.systemBhWq()};
            AtomicInteger runs = new AtomicInteger();

            // Healthy and busy: quick items in batches, at least 1000 of them and for at least three
            // watchdog periods, so the watchdog checks several times while work flows.
            long start = sys.platform().nanoTime();
            long span = THRESHOLD.multipliedBy(3).toNanos();
            int queued = 0;
            while (queued < 1000 || sys.platform().nanoTime() - start < span) {
                for (int i = 0; i < 20; i++, queued++) {
                    WorkQueue q = queues[queued % queues.length];
                    q.queueOn(queued % 2, new Work("quick" + queued, () -> {
                        burn(100);
                        runs.incrementAndGet();
                    }));
                }
                for (WorkQueue q : new WorkQueue[] {percpu, unbound}) {
                    q.flush();
                }
            }
            for (WorkQueue q : queues) {
                q.flush();
            }
            assertEquals(queued, runs.get());
            assertEquals(List.of(), lockups, "no lockup on a healthy system");
            assertEquals(List.of(), hung, "no hung task on a healthy system");

            // Positive control: a per-CPU item hogs CPU 1's pool (no CPU-intensive marking at this
            // threshold), so the item behind it waits with no progress and the watchdog reports it.
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean hogging = new AtomicBoolean();
            Work hog = new Work("hog", () -> {
                hogging.set(true);
                spinUntil(release::get, Duration.ofSeconds(20));
            });
            try {
                assertTrue(percpu.queueOn(1, hog));
                Poll.until("hog running", hogging::get);
                assertTrue(percpu.queueOn(1, new Work("starved", () -> { })));
                Poll.until("a lockup report", () -> !lockups.isEmpty());
            } finally {
                release.set(true);
            }
            LockupReport r = lockups.get(0);
            assertTrue(r.stalls().get(0).startsWith("BUG: workqueue lockup - pool 2: cpus=1 nice=0 stuck for"), r.text());
            assertTrue(r.dump().contains("starved"), r.dump());
            percpu.flush();
            percpu.destroy();
            unbound.destroy();
        }
    }
}
