package dev.rescuer.core.sync;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real contention on platform threads: exact counts under a mutex and a spin lock, the rw-semaphore's
 * reader/writer invariant, and the semaphore's bound. Plain (non-volatile) fields are used on
 * purpose: only the locks' own ordering makes the totals exact.
 */
class SyncStressTest {

    private static final int THREADS = 4;
    private static final int ROUNDS = 20_000;

    private final RealPlatform platform = new RealPlatform();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    @AfterEach
    void tearDown() {
        platform.close();
    }

    private int plainCounter;
    private int plainA;
    private int plainB;

    /**
     * Starts {@code n} platform threads running {@code body(i)}, all released at once through a
     * completion so that they really overlap, waits (bounded) for them, and rethrows failures.
     */
    private void runThreads(int n, java.util.function.IntConsumer body) {
        Completion gate = new Completion(platform, "start_gate");
        AtomicInteger ready = new AtomicInteger();
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            tasks.add(platform.startThread("stress-" + i, () -> {
                try {
                    ready.incrementAndGet();
                    gate.waitFor();
                    body.accept(k);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    throw t;
                }
            }));
        }
        Poll.until("stress threads are ready", () -> ready.get() == n);
        gate.completeAll();
        Poll.until("stress threads finish", () -> tasks.stream().allMatch(Task::hasExited));
        assertNull(failure.get(), () -> "a stress thread failed: " + failure.get());
    }

    /**
     * A read-modify-write of the plain counter with a window in the middle (now and then the thread
     * yields its CPU there), so that a second task let into the section would lose an update.
     */
    private void incrementSlowly(int round) {
        int v = plainCounter;
        if ((round & 31) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
        }
        plainCounter = v + 1;
    }

    @Test
    void mutexMakesAPlainCounterExact() {
        Mutex m = new Mutex(platform, "counter_lock");
        runThreads(THREADS, i -> {
            for (int r = 0; r < ROUNDS; r++) {
                m.lock();
                try {
                    incrementSlowly(r);
                } finally {
                    m.unlock();
                }
            }
        });
        m.lock();
        try {
            assertEquals(THREADS * ROUNDS, plainCounter);
        } finally {
            m.unlock();
        }
        assertFalse(m.isLocked());
        assertEquals(List.of(), m.waitingTasks());
    }

    @Test
    void mutexWithTryLockMixedInStaysExclusive() {
        Mutex m = new Mutex(platform, "counter_lock");
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        runThreads(THREADS, i -> {
            for (int r = 0; r < ROUNDS / 2; r++) {
                if ((r + i) % 3 == 0) {
                    if (!m.tryLock()) {
                        continue;
                    }
                } else {
                    m.lock();
                }
                try {
                    if (inside.incrementAndGet() != 1) {
                        violations.incrementAndGet();
                    }
                    plainCounter++;
                    inside.decrementAndGet();
                } finally {
                    m.unlock();
                }
            }
        });
        assertEquals(0, violations.get(), "two tasks were inside the mutex at once");
        assertTrue(plainCounter > 0);
        assertFalse(m.isLocked());
    }

    @Test
    void spinLockMakesAPlainCounterExact() {
        SpinLock s = new SpinLock(platform, "counter_spin");
        runThreads(THREADS, i -> {
            for (int r = 0; r < ROUNDS; r++) {
                s.lock();
                try {
                    incrementSlowly(r);
                } finally {
                    s.unlock();
                }
            }
        });
        s.lock();
        try {
            assertEquals(THREADS * ROUNDS, plainCounter);
        } finally {
            s.unlock();
        }
    }

    @Test
    void rwSemaphoreReadersNeverSeeAHalfWrittenPairAndNeverOverlapAWriter() {
        RwSemaphore rw = new RwSemaphore(platform, "pair_lock");
        AtomicInteger readersInside = new AtomicInteger();
        AtomicInteger writersInside = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        int writers = 2;
        int writesEach = ROUNDS / 2;
        runThreads(THREADS, i -> {
            if (i < writers) {
                for (int r = 0; r < writesEach; r++) {
                    rw.downWrite();
                    try {
                        if (writersInside.incrementAndGet() != 1 || readersInside.get() != 0) {
                            violations.incrementAndGet();
                        }
                        plainA++;
                        Thread.onSpinWait();
                        plainB++;
                        writersInside.decrementAndGet();
                    } finally {
                        rw.upWrite();
                    }
                }
            } else {
                for (int r = 0; r < ROUNDS / 2; r++) {
                    rw.downRead();
                    try {
                        readersInside.incrementAndGet();
                        if (writersInside.get() != 0 || plainA != plainB) {
                            violations.incrementAndGet();
                        }
                        reads.incrementAndGet();
                        readersInside.decrementAndGet();
                    } finally {
                        rw.upRead();
                    }
                }
            }
        });
        assertEquals(0, violations.get(), "a reader overlapped a writer, or two writers overlapped");
        rw.downRead();
        try {
            assertEquals(writers * writesEach, plainA);
            assertEquals(plainA, plainB);
        } finally {
            rw.upRead();
        }
        assertEquals((THREADS - writers) * (ROUNDS / 2), reads.get());
        assertEquals(0, rw.readers());
        assertFalse(rw.hasQueuedWriter());
    }

    /**
     * The contended rw-semaphore with every way in and out at once: writers that sleep, steal the
     * lock past a woken writer or (past {@code RWSEM_WAIT_TIMEOUT}) get it handed over, writers and
     * readers that give up on a short timeout, downgrades, and readers. Every task must finish (a lost
     * wake-up leaves one asleep and the poll in {@link #runThreads} fails), no writer may overlap
     * another holder, and the lock must end free with nobody queued and no flag left.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 180, unit = java.util.concurrent.TimeUnit.SECONDS)
    void rwSemaphoreWithStealingTimedAndDowngradingHoldersLosesNoWakeUpAndKeepsExclusion() {
        RwSemaphore rw = new RwSemaphore(platform, "contended_lock");
        AtomicInteger readersInside = new AtomicInteger();
        AtomicInteger writersInside = new AtomicInteger();
        AtomicInteger violations = new AtomicInteger();
        AtomicInteger writes = new AtomicInteger();
        int rounds = ROUNDS / 4;
        int threads = 7; // 0-2 writers, 3 timed writer, 4 downgrader, 5 reader, 6 timed reader
        runThreads(threads, i -> {
            for (int r = 0; r < rounds; r++) {
                if (i <= 4) {
                    if (i == 3) {
                        if (!rw.tryDownWrite(java.time.Duration.ofNanos(20_000))) {
                            continue;
                        }
                    } else {
                        rw.downWrite();
                    }
                    if (writersInside.incrementAndGet() != 1 || readersInside.get() != 0) {
                        violations.incrementAndGet();
                    }
                    plainA++;
                    Thread.onSpinWait();
                    plainB++;
                    writes.incrementAndGet();
                    writersInside.decrementAndGet();
                    if (i == 4 && (r & 1) == 0) {
                        rw.downgradeWrite();
                        readAndCheck(readersInside, writersInside, violations);
                        rw.upRead();
                    } else {
                        rw.upWrite();
                    }
                } else {
                    if (i == 6) {
                        if (!rw.tryDownRead(java.time.Duration.ofNanos(20_000))) {
                            continue;
                        }
                    } else {
                        rw.downRead();
                    }
                    readAndCheck(readersInside, writersInside, violations);
                    rw.upRead();
                }
            }
        });
        assertEquals(0, violations.get(), "a reader overlapped a writer, or two writers overlapped");
        assertTrue(writes.get() >= 4 * rounds, "every untimed writer wrote every round");
        assertEquals(writes.get(), plainA);
        assertEquals(plainA, plainB);
        assertEquals(0, rw.readers());
        assertNull(rw.writer());
        assertEquals(List.of(), rw.waitingTasks());
        assertFalse(rw.isHandOffRequested());
        assertTrue(rw.tryDownWrite(), "the lock ends free with no flag left: the write fast path works");
        rw.upWrite();
    }

    private void readAndCheck(AtomicInteger readersInside, AtomicInteger writersInside, AtomicInteger violations) {
        readersInside.incrementAndGet();
        if (writersInside.get() != 0 || plainA != plainB) {
            violations.incrementAndGet();
        }
        readersInside.decrementAndGet();
    }

    @Test
    void semaphoreNeverAdmitsMoreThanItsCount() {
        Semaphore sem = new Semaphore(platform, "two_slots", 2);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxInside = new AtomicInteger();
        runThreads(THREADS, i -> {
            for (int r = 0; r < ROUNDS / 2; r++) {
                sem.down();
                int now = inside.incrementAndGet();
                maxInside.accumulateAndGet(now, Math::max);
                Thread.onSpinWait();
                inside.decrementAndGet();
                sem.up();
            }
        });
        assertTrue(maxInside.get() <= 2, "at most two tasks may be inside, saw " + maxInside.get());
        assertTrue(maxInside.get() >= 1);
        assertEquals(2, sem.availablePermits(), "every unit came back");
        assertEquals(List.of(), sem.waitingTasks());
    }

    @Test
    void everyCompleteReleasesExactlyOneWaitAcrossThreads() {
        Completion c = new Completion(platform, "handoff");
        int perWaiter = ROUNDS / 4;
        int waiters = THREADS - 1;
        AtomicInteger returned = new AtomicInteger();
        runThreads(THREADS, i -> {
            if (i == 0) {
                for (int r = 0; r < perWaiter * waiters; r++) {
                    c.complete();
                }
            } else {
                for (int r = 0; r < perWaiter; r++) {
                    c.waitFor();
                    returned.incrementAndGet();
                }
            }
        });
        assertEquals(perWaiter * waiters, returned.get());
        assertFalse(c.isDone(), "completions and waits balance exactly");
        assertEquals(List.of(), c.waitingTasks());
    }

    @Test
    void waitQueueProducerConsumerLosesNoWakeUp() {
        WaitQueue wq = new WaitQueue(platform, "items_wait");
        AtomicInteger items = new AtomicInteger();
        AtomicInteger consumed = new AtomicInteger();
        int total = ROUNDS / 2;
        runThreads(3, i -> {
            if (i == 0) {
                for (int r = 0; r < total; r++) {
                    items.incrementAndGet();
                    wq.wakeUp();
                }
            } else {
                while (true) {
                    wq.waitEventExclusive(() -> items.get() > 0 || consumed.get() >= total);
                    int have = items.get();
                    if (have > 0 && items.compareAndSet(have, have - 1)) {
                        if (consumed.incrementAndGet() >= total) {
                            wq.wakeUpAll();
                        }
                    } else if (consumed.get() >= total) {
                        return;
                    }
                }
            }
        });
        assertEquals(total, consumed.get());
        assertEquals(0, items.get());
        assertFalse(wq.hasWaiters());
    }
}
