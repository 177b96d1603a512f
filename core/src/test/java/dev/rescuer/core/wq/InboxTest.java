package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The lock-free inbox of a per-CPU pwq (see {@link PoolWorkqueue}): while a worker of the pool is
 * counted as running, an item queued there waits in the inbox, not on the worklist, until someone
 * holding the pool lock looks; every such look must find it. Each test puts an item in the inbox
 * (asserted) behind a worker spinning in an item, which stays counted as running (the CPU-intensive
 * threshold is far away), then exercises one reader.
 */
class InboxTest {

    /** A one-CPU system whose CPU-intensive tick never marks the spinning item within a test. */
    private static RescuerSystem quietSystem() {
        return system(WorkqueueConfig.defaults().withCpus(1).withCpuIntensiveThreshold(Duration.ofSeconds(60)));
    }

    /**
     * Occupies the pool's worker with an item spinning until {@code release}, links one item behind
     * it (which leaves the inbox watched), then queues {@code x}, which must wait in the inbox.
     */
    private static void queueIntoTheInbox(WorkQueue wq, AtomicBoolean release, AtomicInteger linkedRuns, Work x) {
        AtomicBoolean started = new AtomicBoolean();
        assertTrue(wq.queueOn(0, new Work("busy", () -> {
            started.set(true);
            assertTrue(spinUntil(release::get, PATIENCE), "the test never released the busy item");
        })));
        Poll.until("the busy item runs", started::get);
        // The first queueing behind a running worker finds the inbox unwatched: it links itself and
        // leaves the inbox watched, so the next one stays in the inbox.
        assertTrue(wq.queueOn(0, new Work("linked", linkedRuns::incrementAndGet)));
        assertTrue(wq.queueOn(0, x));
        assertTrue(wq.pwqFor(0).inInbox(x), "queued behind a running worker, the item waits in the inbox");
    }

    @Test
    void aCancelFindsAnItemThatIsStillInTheInbox() {
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-cancel", 0);
            PoolWorkqueue pwq = wq.pwqFor(0);
            AtomicBoolean release = new AtomicBoolean();
            AtomicInteger linkedRuns = new AtomicInteger();
            AtomicInteger xRuns = new AtomicInteger();
            try {
                Work x = new Work("x", xRuns::incrementAndGet);
                queueIntoTheInbox(wq, release, linkedRuns, x);
                assertTrue(x.isPending());
                assertTrue(x.cancel(), "the cancel takes back the pending item from the inbox");
                assertFalse(x.isPending());
                assertFalse(pwq.inInbox(x));
            } finally {
                release.set(true);
            }
            wq.flush();
            assertEquals(0, xRuns.get(), "a cancelled item never runs");
            assertEquals(1, linkedRuns.get());
            wq.destroy();
        }
    }

    @Test
    void aFlushOfTheQueueWaitsForAnItemPushedBeforeIt() {
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-flush", 0);
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean xStarted = new AtomicBoolean();
            AtomicBoolean letXFinish = new AtomicBoolean();
            AtomicBoolean xDone = new AtomicBoolean();
            AtomicReference<Boolean> xDoneAtFlushReturn = new AtomicReference<>();
            Work x = new Work("x", () -> {
                xStarted.set(true);
                assertTrue(spinUntil(letXFinish::get, PATIENCE));
                xDone.set(true);
            });
            try {
                queueIntoTheInbox(wq, release, new AtomicInteger(), x);
                var flusher = sys.platform().startThread("flusher", () -> {
                    wq.flush();
                    xDoneAtFlushReturn.set(xDone.get());
                });
                Poll.until("the flusher sleeps in the flush", () -> flusher.waitingOn() != null || flusher.hasExited());
                release.set(true);
                Poll.until("x runs", xStarted::get);
                letXFinish.set(true);
                sys.platform().join(flusher);
                assertNull(flusher.failure());
            } finally {
                release.set(true);
                letXFinish.set(true);
            }
            assertEquals(Boolean.TRUE, xDoneAtFlushReturn.get(), "the flush returned before an item queued before it had run");
            wq.destroy();
        }
    }

    @Test
    void aFlushOfTheItemWaitsForItWhileItIsInTheInbox() {
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-flush-work", 0);
            AtomicBoolean release = new AtomicBoolean();
            AtomicInteger xRuns = new AtomicInteger();
            AtomicReference<Boolean> waited = new AtomicReference<>();
            Work x = new Work("x", xRuns::incrementAndGet);
            try {
                queueIntoTheInbox(wq, release, new AtomicInteger(), x);
                var flusher = sys.platform().startThread("flusher", () -> waited.set(x.flush()));
                Poll.until("the flusher sleeps in the flush", () -> flusher.waitingOn() != null || flusher.hasExited());
                release.set(true);
                sys.platform().join(flusher);
                assertNull(flusher.failure());
            } finally {
                release.set(true);
            }
            assertEquals(Boolean.TRUE, waited.get(), "flush_work of a pending item waits for it");
            assertEquals(1, xRuns.get(), "the item ran before its flush returned");
            wq.destroy();
        }
    }

    @Test
    void aWorkerThatStopsRunningLinksTheInboxAndTheItemsGetAWorker() {
        // The busy item sleeps in a core primitive: the sleep hook drops the running count to zero,
        // which must link the inbox's items and kick another worker for them, as a queueing would.
        // Nothing else is on the worklist, so no other kick would find x: busy would wait forever.
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-sleep", 0);
            PoolWorkqueue pwq = wq.pwqFor(0);
            AtomicBoolean sleepNow = new AtomicBoolean();
            var done = new dev.rescuer.core.sync.Completion(sys.platform(), "x done", "completion");
            AtomicBoolean started = new AtomicBoolean();
            assertTrue(wq.queueOn(0, new Work("busy", () -> {
                started.set(true);
                assertTrue(spinUntil(sleepNow::get, PATIENCE));
                done.waitFor(); // sleeps; only x completes it
            })));
            Poll.until("the busy item runs", started::get);
            Work linked = new Work("linked", () -> { });
            assertTrue(wq.queueOn(0, linked)); // leaves the inbox watched
            assertTrue(linked.cancel(), "taken back, so the worklist is empty: only the inbox holds work");
            AtomicBoolean xRan = new AtomicBoolean();
            Work x = new Work("x", () -> {
                xRan.set(true);
                done.complete();
            });
            assertTrue(wq.queueOn(0, x));
            assertTrue(pwq.inInbox(x), "queued behind a running worker, the item waits in the inbox");
            sleepNow.set(true);
            Poll.until("x runs on another worker while busy sleeps", xRan::get);
            assertFalse(pwq.inInbox(x));
            wq.flush();
            wq.destroy();
        }
    }

    @Test
    void aQueueingRefusedAtAClosedInboxKeepsTheItemsLastPwqForNonReentrancy() {
        // w runs on q2's CPU 0 pool. A queueing onto destroyed q1 (closed inbox, refused under the
        // lock) must leave w's last pwq as it was, so that queueing w on q2's CPU 1 still finds it
        // running on CPU 0 and goes there (__queue_work sets the pwq only when it links the item).
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(2).withCpuIntensiveThreshold(Duration.ofSeconds(60)))) {
            WorkQueue q1 = sys.workqueues().create("inbox-refused", 0);
            WorkQueue q2 = sys.workqueues().create("inbox-last-pwq", 0);
            q1.destroy();
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean started = new AtomicBoolean();
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            Work w = new Work("w", () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                started.set(true);
                assertTrue(spinUntil(release::get, PATIENCE), "the test never released w");
                running.decrementAndGet();
            });
            try {
                assertTrue(q2.queueOn(0, w));
                Poll.until("w runs", started::get);
                assertThrows(IllegalStateException.class, () -> q1.queueOn(1, w));
                assertSame(q2.pwqFor(0), w.pwq, "a refused queueing leaves the item's last pwq alone");
                assertTrue(q2.queueOn(1, w));
                assertSame(q2.pwqFor(0), w.pwq, "queued where it still runs (non-reentrancy)");
            } finally {
                release.set(true);
            }
            q2.flush();
            assertEquals(1, maxRunning.get(), "w never ran twice at once");
            q2.destroy();
        }
    }
}
