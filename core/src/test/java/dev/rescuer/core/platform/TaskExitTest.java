package dev.rescuer.core.platform;

import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.SpinLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exit processing: a task that exits holding locks is recorded and reported (the kernel's
 * {@code debug_check_no_locks_held()} in {@code do_exit}), the locks stay held, and the records of
 * dead foreign threads do not pile up in the registry.
 */
class TaskExitTest {

    private final RealPlatform platform = new RealPlatform();

    @AfterEach
    void tearDown() {
        platform.close();
    }

    /** Runs {@code body} on a foreign thread (one the platform did not start) and joins it. */
    private Task onForeignThread(Runnable body) throws InterruptedException {
        AtomicReference<Task> task = new AtomicReference<>();
        Thread th = new Thread(() -> {
            task.set(platform.currentTask());
            body.run();
        }, "foreign");
        th.start();
        th.join();
        return task.get();
    }

    @Test
    void aStartedTaskThatExitsHoldingLocksKeepsThemAndRecordsThem() {
        Mutex m = new Mutex(platform, "m");
        RwSemaphore rw = new RwSemaphore(platform, "rw");
        Task t = platform.startThread("leaker", () -> {
            m.lock();
            rw.downRead();
        });
        platform.join(t);

        assertEquals(List.of(m, rw), t.heldAtExit(), "the exit record names the locks still held");
        assertSame(t, m.owner(), "the mutex stays held by the dead task, as in the kernel");
        assertEquals(1, rw.readers());
        assertFalse(m.tryLock());
        assertEquals(List.of(t), List.copyOf(platform.exitedHolders()));
        assertFalse(platform.tasks().contains(t));
    }

    @Test
    void aTaskThatExitsHoldingNothingHasAnEmptyExitRecordAndIsNotListed() {
        Mutex m = new Mutex(platform, "m");
        Task t = platform.startThread("tidy", () -> {
            m.lock();
            m.unlock();
        });
        platform.join(t);
        assertEquals(List.of(), t.heldAtExit());
        assertTrue(platform.exitedHolders().isEmpty());
    }

    @Test
    void aSpinLockHeldAtExitIsRecordedToo() {
        SpinLock s = new SpinLock(platform, "s");
        Task t = platform.startThread("spinner", s::lock);
        platform.join(t);
        assertEquals(List.of(s), t.heldAtExit());
        assertSame(t, s.owner());
    }

    @Test
    void aForeignThreadThatDiesHoldingAMutexIsRetiredWithItsLocksRecorded() throws InterruptedException {
        Mutex m = new Mutex(platform, "m");
        Task t = onForeignThread(m::lock);
        assertTrue(t.isAdopted());
        assertFalse(t.hasExited(), "nobody has looked yet: a foreign thread's death is found, not announced");

        assertFalse(platform.tasks().contains(t)); // finds it dead and retires it
        assertTrue(t.hasExited());
        assertSame(Task.State.EXITED, t.state());
        assertEquals(List.of(m), t.heldAtExit());
        assertEquals(List.of(t), List.copyOf(platform.exitedHolders()));
        assertSame(t, m.owner());
    }

    @Test
    void shortLivedForeignThreadsLeaveABoundedNumberOfRecords() throws InterruptedException {
        Mutex m = new Mutex(platform, "m");
        Task holder = onForeignThread(m::lock); // one of them dies holding a lock
        for (int i = 0; i < 2000; i++) {
            onForeignThread(() -> { });
        }
        // Nobody called tasks(), and no hung-task detector runs: adoption alone keeps the registry small.
        assertTrue(platform.registrySize() <= 2 * 64 + 1,
                "the registry holds " + platform.registrySize() + " records after 2,000 dead foreign threads");
        platform.tasks();
        assertTrue(holder.hasExited());
        assertEquals(List.of(holder), List.copyOf(platform.exitedHolders()),
                "the dead holder stays reportable after its record left the registry");
        assertSame(holder, m.owner());
    }

    @Test
    void theExitWithLocksHeldIsLoggedAsAWarningNamingTheTaskAndTheLocks() {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.rescuer.platform");
        List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override public void publish(java.util.logging.LogRecord r) { records.add(r); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        java.util.logging.Level level = log.getLevel();
        boolean parents = log.getUseParentHandlers();
        log.setLevel(java.util.logging.Level.WARNING); // the tests' logging.properties turns dev.rescuer off
        log.setUseParentHandlers(false); // captured, not printed on the console
        log.addHandler(capture);
        try {
            Mutex m = new Mutex(platform, "&s->lock", "dm_snapshot_lock");
            Task t = platform.startThread("leaker", m::lock);
            platform.join(t);
            String expected = "task " + t + " exited with locks still held!";
            java.util.logging.LogRecord r = records.stream().filter(x -> x.getMessage().startsWith(expected))
                    .findFirst().orElseThrow(() -> new AssertionError("no warning for " + t + " in " + records));
            assertEquals(java.util.logging.Level.WARNING, r.getLevel());
            assertTrue(r.getMessage().contains("holding: mutex &s->lock [dm_snapshot_lock]"), r.getMessage());
        } finally {
            log.removeHandler(capture);
            log.setUseParentHandlers(parents);
            log.setLevel(level);
        }
    }
}
