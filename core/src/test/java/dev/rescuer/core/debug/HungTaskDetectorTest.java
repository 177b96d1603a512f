package dev.rescuer.core.debug;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.ForwardingPlatform;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The hung-task report names what a task waits on, who holds it, queued writers, and what it holds. */
class HungTaskDetectorTest {

    private static final Duration TIMEOUT = Duration.ofMillis(200);

    private static RescuerSystem system() {
        return RescuerSystem.builder().totalPages(1024).withoutWorkqueues().backgroundReclaim(false)
                .hungTaskTimeout(TIMEOUT).build();
    }

    private static HungTaskReport awaitReport(List<HungTaskReport> reports, String taskName) {
        long deadline = System.nanoTime() + DrivenTask.PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (HungTaskReport r : reports) {
                if (r.task().name().equals(taskName)) {
                    return r;
                }
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        return fail("no hung-task report for " + taskName + "; got " + reports);
    }

    @Test
    void aBlockedTaskIsReportedWithTheHolderOfItsMutexAndWhatTheHolderWaitsFor() {
        try (RescuerSystem sys = system()) {
            Platform p = sys.platform();
            List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
            sys.hungTaskDetector().onHungTask(reports::add);
            Mutex lock = new Mutex(p, "&s->lock", "dm_snapshot_lock");
            Completion io = new Completion(p, "io_done");
            AtomicLong seq = new AtomicLong();
            try (DrivenTask holder = new DrivenTask(p, "holder", seq); DrivenTask waiter = new DrivenTask(p, "waiter", seq)) {
                DrivenTask.Op h = holder.runUntilBlocked(() -> {
                    lock.lock();
                    io.waitFor();
                    lock.unlock();
                }, io);
                DrivenTask.Op w = waiter.runUntilBlocked(() -> {
                    lock.lock();
                    lock.unlock();
                }, lock);

                String text = awaitReport(reports, "waiter").text();
                assertTrue(text.startsWith("INFO: task waiter:" + waiter.task().id() + " blocked for more than 200 ms."), text);
                assertTrue(text.contains("waiting on: mutex &s->lock [dm_snapshot_lock]"), text);
                assertTrue(text.contains("held by: holder:" + holder.task().id() + " (itself waiting on completion io_done)"), text);
                String holderText = awaitReport(reports, "holder").text();
                assertTrue(holderText.contains("waiting on: completion io_done"), holderText);
                assertTrue(holderText.contains("held by: no task (any task may release it)"), holderText);
                assertTrue(holderText.contains("holding: mutex &s->lock [dm_snapshot_lock]"), holderText);

                io.complete();
                DrivenTask.awaitDone(h);
                DrivenTask.awaitDone(w);
            }
        }
    }

    @Test
    void aWaiterOnAFreeLockIsReportedWithTheLockFreeNotAsIfAnyTaskMightReleaseIt() {
        try (ForwardingPlatform p = new ForwardingPlatform() { }) {
            Mutex lock = new Mutex(p, "&md->suspend_lock", "suspend_lock");
            AtomicLong seq = new AtomicLong();
            try (DrivenTask holder = new DrivenTask(p, "holder", seq); DrivenTask waiter = new DrivenTask(p, "waiter", seq)) {
                holder.run(lock::lock);
                DrivenTask.Op w = waiter.runUntilBlocked(() -> {
                    lock.lock();
                    lock.unlock();
                }, lock);
                p.holdWakesOf(t -> t == waiter.task()); // the release wakes it; it stays "on its way"
                holder.run(lock::unlock);
                assertEquals(1, p.wakeCount(waiter.task()), "the release woke the waiter (held back)");

                List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
                try (HungTaskDetector detector = new HungTaskDetector(p, TIMEOUT)) {
                    detector.onHungTask(reports::add);
                    String text = awaitReport(reports, "waiter").text();
                    assertTrue(text.contains("waiting on: mutex &md->suspend_lock [suspend_lock]"), text);
                    assertTrue(text.contains("held by: no task (the lock is free: the waiter has yet to take it)"), text);
                    assertFalse(text.contains("any task may release it"), "only its holder releases a mutex: " + text);
                }
                p.releaseWakes();
                DrivenTask.awaitDone(w);
            }
        }
    }

    @Test
    void aReaderBehindAQueuedWriterIsReportedWithTheWriter() {
        try (RescuerSystem sys = system()) {
            Platform p = sys.platform();
            List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
            sys.hungTaskDetector().onHungTask(reports::add);
            RwSemaphore origins = new RwSemaphore(p, "_origins_lock");
            AtomicLong seq = new AtomicLong();
            try (DrivenTask r1 = new DrivenTask(p, "reader1", seq); DrivenTask w = new DrivenTask(p, "lvcreate", seq);
                 DrivenTask r2 = new DrivenTask(p, "kcopyd", seq); DrivenTask w2 = new DrivenTask(p, "lvremove", seq)) {
                r1.run(origins::downRead);
                DrivenTask.Op wOp = w.runUntilBlocked(() -> {
                    origins.downWrite();
                    origins.upWrite();
                }, origins);
                DrivenTask.Op r2Op = r2.runUntilBlocked(() -> {
                    origins.downRead();
                    origins.upRead();
                }, origins);
                DrivenTask.Op w2Op = w2.runUntilBlocked(() -> {
                    origins.downWrite();
                    origins.upWrite();
                }, origins);

                String text = awaitReport(reports, "kcopyd").text();
                assertTrue(text.contains("waiting on: rwsem _origins_lock"), text);
                assertTrue(text.contains("held by: reader1:" + r1.task().id()), text);
                assertTrue(text.contains("queued writers ahead (writer preference): lvcreate:" + w.task().id() + "\n"), text);
                assertFalse(text.contains("lvremove"), "a writer queued behind the reader does not keep it waiting: " + text);

                r1.run(origins::upRead);
                DrivenTask.awaitDone(wOp);
                DrivenTask.awaitDone(r2Op);
                DrivenTask.awaitDone(w2Op);
            }
        }
    }

    @Test
    void idleSleepsAndShortWaitsAreNotReported() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(1024).cpus(1).hungTaskTimeout(TIMEOUT).build()) {
            List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
            sys.hungTaskDetector().onHungTask(reports::add);
            Completion c = new Completion(sys.platform(), "quick");
            AtomicLong seq = new AtomicLong();
            try (DrivenTask t = new DrivenTask(sys.platform(), "short", seq)) {
                DrivenTask.Op op = t.runUntilBlocked(c::waitFor, c);
                c.complete();
                DrivenTask.awaitDone(op);
            }
            // Idle workers, kthreadd, ksoftirqd and kswapd sleep all along; a task that blocks for
            // long is reported, which shows that the detector ran meanwhile.
            Completion never = new Completion(sys.platform(), "never");
            try (DrivenTask t = new DrivenTask(sys.platform(), "stuck", seq)) {
                DrivenTask.Op op = t.runUntilBlocked(never::waitFor, never);
                awaitReport(reports, "stuck");
                never.complete();
                DrivenTask.awaitDone(op);
            }
            assertFalse(reports.stream().anyMatch(r -> !r.task().name().equals("stuck")), reports.toString());
            assertEquals(1, reports.size(), "one report per wait: " + reports);
        }
    }

    @Test
    void aHolderThatExitedIsNamedAsExitedNotAsNobody() {
        try (RealPlatform p = new RealPlatform(); HungTaskDetector detector = new HungTaskDetector(p, TIMEOUT)) {
            List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
            detector.onHungTask(reports::add);
            Mutex lock = new Mutex(p, "&s->lock", "dm_snapshot_lock");
            Task leaker = p.startThread("leaker", lock::lock);
            p.join(leaker);
            // The mutex stays held by the dead task, so this waiter never returns. It is a daemon
            // thread of this test's own platform, left parked when the test ends.
            Task waiter = p.startThread("waiter", lock::lock);

            String text = awaitReport(reports, "waiter").text();
            assertTrue(text.contains("waiting on: mutex &s->lock [dm_snapshot_lock]"), text);
            assertTrue(text.contains("held by: leaker:" + leaker.id() + " (exited)"), text);
            assertFalse(text.contains("no task"), text);
            assertEquals(Task.State.BLOCKED, waiter.state());
        }
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The frame a task blocked on {@code monitor} stands in. */
    static void enterMonitor(Object monitor) {
        synchronized (monitor) {
            monitor.hashCode();
        }
    }

    @Test
    void tasksBlockedOutsideThePlatformAreReportedOncePerEpisodeWithTheirJvmStack() {
        try (RealPlatform p = new RealPlatform(); HungTaskDetector detector = new HungTaskDetector(p, TIMEOUT)) {
            List<HungTaskReport> reports = new CopyOnWriteArrayList<>();
            detector.onHungTask(reports::add);
            CountDownLatch latch = new CountDownLatch(1);
            Object monitor = new Object();
            Completion done = new Completion(p, "done");
            Task latched = p.startThread("latched", () -> awaitLatch(latch));
            Task sleeper = p.startThread("sleeper", done::waitFor);
            Task monitored;
            synchronized (monitor) {
                monitored = p.startThread("monitored", () -> enterMonitor(monitor));
                try {
                    HungTaskReport l = awaitReport(reports, "latched");
                    assertTrue(l.blockedOutsidePlatform());
                    assertEquals(CountDownLatch.class.getName(), l.jvmStack().stream()
                            .filter(e -> e.getMethodName().equals("await")).findFirst().orElseThrow().getClassName());
                    assertTrue(l.text().startsWith("INFO: task latched:" + latched.id() + " blocked for more than 200 ms."), l.text());
                    assertTrue(l.text().contains("blocked outside the platform"), l.text());
                    assertTrue(l.text().contains(CountDownLatch.class.getName() + ".await("), l.text());

                    HungTaskReport m = awaitReport(reports, "monitored");
                    assertTrue(m.blockedOutsidePlatform());
                    assertEquals("enterMonitor", m.jvmStack().get(0).getMethodName(), m.text());

                    HungTaskReport s = awaitReport(reports, "sleeper");
                    assertFalse(s.blockedOutsidePlatform(), "a task sleeping in the platform is reported as such");
                    assertTrue(s.text().contains("waiting on: completion done"), s.text());
                    assertFalse(s.text().contains("blocked outside the platform"), s.text());

                    // A later episode, reported only after at least two more checks: meanwhile the first
                    // two episodes were seen again and not reported again.
                    CountDownLatch second = new CountDownLatch(1);
                    Task late = p.startThread("late", () -> awaitLatch(second));
                    awaitReport(reports, "late");
                    second.countDown();
                    p.join(late);
                    assertEquals(1, reports.stream().filter(r -> r.task() == latched).count(), reports.toString());
                    assertEquals(1, reports.stream().filter(r -> r.task() == monitored).count(), reports.toString());
                } finally {
                    latch.countDown();
                    done.complete();
                }
            }
            p.join(latched);
            p.join(monitored);
            p.join(sleeper);
        }
    }
}
