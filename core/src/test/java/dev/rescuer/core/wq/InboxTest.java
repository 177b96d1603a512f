package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
     * Queues on CPU 0 an item spinning until {@code release} and waits until it runs: the pool's
     * worker stays counted as running (it does not sleep), so items queued behind it wait.
     */
    private static void occupyTheWorker(WorkQueue wq, AtomicBoolean release) {
        AtomicBoolean started = new AtomicBoolean();
        assertTrue(wq.queueOn(0, new Work("busy", () -> {
            started.set(true);
            assertTrue(spinUntil(release::get, PATIENCE), "the test never released the busy item");
        })));
        Poll.until("the busy item runs", started::get);
    }

    /**
     * Occupies the pool's worker with an item spinning until {@code release}, links one item behind
     * it (which leaves the inbox watched), then queues {@code x}, which must wait in the inbox.
     */
    private static void queueIntoTheInbox(WorkQueue wq, AtomicBoolean release, AtomicInteger linkedRuns, Work x) {
        occupyTheWorker(wq, release);
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
            Completion done = new Completion(sys.platform(), "x done", "completion");
            AtomicBoolean started = new AtomicBoolean();
            assertTrue(wq.queueOn(0, new Work("busy", () -> {
                started.set(true);
                assertTrue(spinUntil(sleepNow::get, PATIENCE));
                done.waitFor(); // sleeps; only x completes it
            })));
            AtomicBoolean xRan = new AtomicBoolean();
            try {
                Poll.until("the busy item runs", started::get);
                Work linked = new Work("linked", () -> { });
                assertTrue(wq.queueOn(0, linked)); // leaves the inbox watched
                assertTrue(linked.cancel(), "taken back, so the worklist is empty: only the inbox holds work");
                Work x = new Work("x", () -> {
                    xRan.set(true);
                    done.complete();
                });
                assertTrue(wq.queueOn(0, x));
                assertTrue(pwq.inInbox(x), "queued behind a running worker, the item waits in the inbox");
                sleepNow.set(true);
                Poll.until("x runs on another worker while busy sleeps", xRan::get);
                assertFalse(pwq.inInbox(x));
            } finally {
                // An early failure must not leave busy spinning or asleep: the system's close would
                // wait for it for ever.
                sleepNow.set(true);
                if (!xRan.get()) {
                    done.complete();
                }
            }
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

    /**
     * Occupies the pool's worker with {@code busy} spinning until {@code release}, queues a no-op item
     * (linked by its producer, which leaves the inbox watched) and then {@code first} and {@code rest}
     * (pushed onto the watched inbox), releases busy and waits until {@code first} runs. The worker
     * drains the inbox once its worklist is empty, after the no-op item: {@code first} and
     * {@code rest} are linked in one batch, and none of {@code rest} has started.
     */
    private static void batchBehind(WorkQueue wq, AtomicBoolean release, AtomicBoolean firstStarted, Work first, Work... rest) {
        occupyTheWorker(wq, release);
        assertTrue(wq.queueOn(0, new Work("linked", () -> { })));
        List<Work> batch = new ArrayList<>(List.of(rest));
        batch.add(0, first);
        for (Work w : batch) {
            assertTrue(wq.queueOn(0, w));
            assertTrue(wq.pwqFor(0).inInbox(w), "queued behind a running worker, the item waits in the inbox");
        }
        release.set(true);
        Poll.until("the batch's first item runs", firstStarted::get);
        for (Work w : rest) {
            assertFalse(wq.pwqFor(0).inInbox(w), "the worker linked the inbox, its worklist empty, before it went on");
        }
    }

    @Test
    void aCancelTakesBackAnItemOfTheWorkersBatchThatHasNotStarted() {
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-batch-cancel", 0);
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean aStarted = new AtomicBoolean();
            AtomicBoolean letAFinish = new AtomicBoolean();
            AtomicInteger bRuns = new AtomicInteger();
            AtomicInteger xRuns = new AtomicInteger();
            Work a = new Work("a", () -> {
                aStarted.set(true);
                assertTrue(spinUntil(letAFinish::get, PATIENCE), "the test never let a finish");
            });
            Work b = new Work("b", bRuns::incrementAndGet);
            Work x = new Work("x", xRuns::incrementAndGet);
            try {
                batchBehind(wq, release, aStarted, a, b, x);
                assertTrue(x.isPending(), "linked in the batch, not started: still pending");
                assertTrue(x.cancel(), "the cancel takes back an item of the batch that has not started");
                assertFalse(x.isPending());
            } finally {
                release.set(true);
                letAFinish.set(true);
            }
            wq.flush();
            assertEquals(0, xRuns.get(), "a cancelled item of a batch never runs");
            assertEquals(1, bRuns.get(), "the rest of the batch runs");
            wq.destroy();
        }
    }

    @Test
    void aFlushReturnsWhenItsColorDrainsInTheMiddleOfTheWorkersBatch() {
        // The worker's batch holds b (queued before the flush, its color) and c (queued after it, the
        // next color). c waits for the flush to return: a flush that waited for the whole batch, or
        // for c's color, would never return.
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-batch-flush", 0);
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean aStarted = new AtomicBoolean();
            AtomicBoolean letAFinish = new AtomicBoolean();
            AtomicBoolean bDone = new AtomicBoolean();
            AtomicBoolean flushReturned = new AtomicBoolean();
            AtomicReference<Boolean> bDoneAtFlushReturn = new AtomicReference<>();
            AtomicReference<Boolean> cSawTheFlushReturn = new AtomicReference<>();
            Work a = new Work("a", () -> {
                aStarted.set(true);
                assertTrue(spinUntil(letAFinish::get, PATIENCE), "the test never let a finish");
            });
            Work b = new Work("b", () -> bDone.set(true));
            Work c = new Work("c", () -> cSawTheFlushReturn.set(spinUntil(flushReturned::get, PATIENCE)));
            try {
                occupyTheWorker(wq, release);
                assertTrue(wq.queueOn(0, a));
                assertTrue(wq.queueOn(0, b));
                var flusher = sys.platform().startThread("flusher", () -> {
                    wq.flush();
                    bDoneAtFlushReturn.set(bDone.get());
                    flushReturned.set(true);
                });
                Poll.until("the flusher sleeps in the flush", () -> flusher.waitingOn() != null || flusher.hasExited());
                assertTrue(wq.queueOn(0, c));
                assertTrue(wq.pwqFor(0).inInbox(c), "c waits in the inbox, to be linked with the batch");
                release.set(true);
                Poll.until("a runs", aStarted::get);
                letAFinish.set(true);
                Poll.until("the flush returns", flushReturned::get);
                sys.platform().join(flusher);
                assertNull(flusher.failure());
            } finally {
                release.set(true);
                letAFinish.set(true);
                flushReturned.set(true);
            }
            wq.flush();
            assertEquals(Boolean.TRUE, bDoneAtFlushReturn.get(), "the flush returned before b, queued before it, had run");
            assertEquals(Boolean.TRUE, cSawTheFlushReturn.get(), "the flush waited for c, queued after it");
            wq.destroy();
        }
    }

    @Test
    void anItemQueuedAgainWhileItSleepsRunsAfterOnTheSameWorkerNotBesideIt() {
        // w's first run sleeps; meanwhile w is queued again and pushed with p behind it. The sleep
        // hook links the inbox and kicks another worker, which takes w from the worklist: the busy
        // hash sends it to the sleeping run's worker (non-reentrancy), and p runs.
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-batch-reentrancy", 0);
            PoolWorkqueue pwq = wq.pwqFor(0);
            Completion gate = new Completion(sys.platform(), "gate", "completion");
            AtomicBoolean sleepNow = new AtomicBoolean();
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            AtomicReference<Thread> firstRunOn = new AtomicReference<>();
            AtomicReference<Thread> secondRunOn = new AtomicReference<>();
            AtomicBoolean pRan = new AtomicBoolean();
            Work w = new Work("w", () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                if (runs.incrementAndGet() == 1) {
                    firstRunOn.set(Thread.currentThread());
                    assertTrue(spinUntil(sleepNow::get, PATIENCE), "the test never let w sleep");
                    gate.waitFor(); // sleeps: the count drops, the inbox is linked, another worker comes
                } else {
                    secondRunOn.set(Thread.currentThread());
                }
                running.decrementAndGet();
            });
            Work p = new Work("p", () -> {
                pRan.set(true);
                gate.complete();
            });
            try {
                assertTrue(wq.queueOn(0, w));
                Poll.until("w's first run", () -> firstRunOn.get() != null);
                assertTrue(wq.queueOn(0, w), "queued again while it runs");
                assertTrue(wq.queueOn(0, p));
                assertTrue(pwq.inInbox(p), "behind a running worker, p waits in the inbox");
                sleepNow.set(true);
                Poll.until("p runs on another worker while w sleeps", pRan::get);
                Poll.until("w's second run", () -> secondRunOn.get() != null);
            } finally {
                sleepNow.set(true);
                gate.complete();
            }
            wq.flush();
            assertEquals(2, runs.get());
            assertEquals(1, maxRunning.get(), "w ran beside itself");
            assertSame(firstRunOn.get(), secondRunOn.get(), "the second run goes to the worker of the first");
            wq.destroy();
        }
    }

    @Test
    void noItemIsLostWhenTheLastWorkerIdlesWhileAProducerPushes() {
        // Bursts of one to three items, each waited for without any drain (a flush would find a lost
        // item itself): the worker goes idle between and within bursts, so pushes race its idling.
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue wq = sys.workqueues().create("inbox-idle-race", 0);
            AtomicInteger outstanding = new AtomicInteger();
            for (int round = 0; round < 500; round++) {
                int n = 1 + round % 3;
                outstanding.addAndGet(n);
                for (int i = 0; i < n; i++) {
                    assertTrue(wq.queueOn(0, new Work("tiny", outstanding::decrementAndGet)));
                }
                int r = round;
                assertTrue(spinUntil(() -> outstanding.get() == 0, PATIENCE), () -> "round " + r + ": an item was left with no worker on its way");
            }
            wq.destroy();
        }
    }

    @Test
    void aDestroyedQueueLeavesTheWatchedListOfAPoolThatNeverIdles() {
        try (RescuerSystem sys = quietSystem()) {
            WorkQueue keeper = sys.workqueues().create("inbox-keeper", 0);
            WorkQueue gone = sys.workqueues().create("inbox-gone", 0);
            PoolWorkqueue gonePwq = gone.pwqFor(0);
            WorkerPool pool = gonePwq.pool;
            AtomicBoolean release = new AtomicBoolean();
            AtomicBoolean releaseSecond = new AtomicBoolean();
            AtomicBoolean secondStarted = new AtomicBoolean();
            AtomicBoolean yRan = new AtomicBoolean();
            try {
                occupyTheWorker(keeper, release);
                assertTrue(gone.queueOn(0, new Work("y", () -> yRan.set(true)))); // watches gone's inbox
                assertTrue(keeper.queueOn(0, new Work("busy2", () -> {
                    secondStarted.set(true);
                    assertTrue(spinUntil(releaseSecond::get, PATIENCE), "the test never released busy2");
                })));
                release.set(true);
                Poll.until("busy2 runs: y ran and the worker never idled", secondStarted::get);
                assertTrue(yRan.get());
                assertTrue(onWatched(pool, gonePwq), "the test's premise: gone's pwq is watched");
                gone.destroy();
                assertFalse(onWatched(pool, gonePwq), "a destroyed queue's pwq stays on the pool's watched list");
            } finally {
                release.set(true);
                releaseSecond.set(true);
            }
            keeper.flush();
            keeper.destroy();
        }
    }

    private static boolean onWatched(WorkerPool pool, PoolWorkqueue pwq) {
        pool.lock.lock();
        try {
            return pool.watched.contains(pwq);
        } finally {
            pool.lock.unlock();
        }
    }
}
