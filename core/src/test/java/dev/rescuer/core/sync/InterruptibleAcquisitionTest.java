package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The interruptible and timed acquisitions on real threads: an interrupt ({@code Thread.interrupt} or
 * {@code Platform.interrupt}) ends an interruptible sleep with {@link InterruptedException} and takes
 * the waiter out of the queue; uninterruptible sleeps keep the interrupt for later; a free primitive
 * is taken even with an interrupt pending (the kernel's fast path); a waiter that gives up lets in
 * whoever it held back; the validator hears a released acquisition for a failed untimed one and
 * nothing for a timed one.
 */
class InterruptibleAcquisitionTest {

    private final Fixture f = new Fixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    /** Runs {@code body}, recording an {@link InterruptedException} it throws and the interrupt status after it. */
    private interface Interruptible {
        void run() throws InterruptedException;
    }

    private static Runnable recording(Interruptible body, AtomicReference<Throwable> thrown, AtomicBoolean interruptedAfter) {
        return () -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                thrown.set(e);
            }
            interruptedAfter.set(Thread.interrupted()); // and clear it for the driven task's loop
        };
    }

    @Test
    void threadInterruptEndsAnInterruptibleMutexSleepAndTheWaiterLeavesTheQueue() {
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        DrivenTask c = f.task("C");
        a.run(mutex::lock);
        AtomicReference<Thread> bThread = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean(true);
        Op bLock = b.runUntilBlocked(recording(() -> {
            bThread.set(Thread.currentThread());
            mutex.lockInterruptible();
        }, thrown, interruptedAfter), mutex);

        bThread.get().interrupt(); // the JVM's interrupt, not the platform's: it must count the same
        awaitOk(bLock);
        assertInstanceOf(InterruptedException.class, thrown.get());
        assertTrue(thrown.get().getMessage().contains(mutex.describe()), thrown.get().getMessage());
        assertFalse(interruptedAfter.get(), "the interrupt is consumed by the exception");
        assertSame(a.task(), mutex.owner());
        assertEquals(List.of(), mutex.waitingTasks(), "the interrupted waiter left the queue");
        assertFalse(b.task().holds(mutex));

        Op cLock = c.runUntilBlocked(mutex::lock, mutex);
        a.run(mutex::unlock);
        awaitOk(cLock);
        assertSame(c.task(), mutex.owner());
        c.run(mutex::unlock);
    }

    @Test
    void aFreeMutexIsTakenWithAnInterruptPendingAndAnUninterruptibleSleepKeepsTheInterrupt() {
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        b.run(recording(() -> {
            Thread.currentThread().interrupt();
            mutex.lockInterruptible();
            mutex.unlock();
        }, thrown, interruptedAfter));
        assertNull(thrown.get(), "mutex_lock_interruptible's fast path succeeds with a signal pending");
        assertTrue(interruptedAfter.get(), "the interrupt was not consumed");

        a.run(mutex::lock);
        Op bLock = b.runUntilBlocked(recording(() -> {
            f.platform.interrupt(f.platform.currentTask());
            mutex.lock(); // uninterruptible
        }, thrown, interruptedAfter), mutex);
        a.run(mutex::unlock);
        awaitOk(bLock);
        assertSame(b.task(), mutex.owner(), "an uninterruptible sleep is not ended by an interrupt");
        assertTrue(interruptedAfter.get(), "and the interrupt stays pending for later");
        b.run(mutex::unlock);
    }

    @Test
    void aTimedMutexAcquisitionGivesUpWhileHeldAndSucceedsWhenFree() {
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        AtomicBoolean got = new AtomicBoolean(true);
        a.run(mutex::lock);
        b.run(() -> got.set(mutex.tryLock(Duration.ofMillis(20))));
        assertFalse(got.get());
        assertEquals(List.of(), mutex.waitingTasks());
        a.run(mutex::unlock);
        b.run(() -> got.set(mutex.tryLock(Duration.ofMillis(20))));
        assertTrue(got.get());
        assertSame(b.task(), mutex.owner());
        b.run(mutex::unlock);
    }

    @Test
    void aWriterThatIsInterruptedLetsInTheReadersQueuedBehindIt() {
        RwSemaphore sem = new RwSemaphore(f.platform, "rw");
        DrivenTask holder = f.task("reader-1");
        DrivenTask writer = f.task("writer");
        DrivenTask reader = f.task("reader-2");
        holder.run(sem::downRead);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Op w = writer.runUntilBlocked(recording(sem::downWriteInterruptible, thrown, interruptedAfter), sem);
        Op r = reader.runUntilBlocked(sem::downRead, sem); // behind the queued writer: writer preference

        f.platform.interrupt(writer.task());
        awaitOk(w);
        assertInstanceOf(InterruptedException.class, thrown.get());
        // Without rwsem_del_wake_waiter's wake-up the reader would wait until reader-1 leaves.
        awaitOk(r);
        assertEquals(2, sem.readers());
        assertEquals(List.of(), sem.waitingTasks());
        holder.run(sem::upRead);
        reader.run(sem::upRead);
        writer.run(() -> assertTrue(sem.tryDownWrite(Duration.ofMillis(20))));
        writer.run(sem::upWrite);
    }

    @Test
    void anInterruptibleReaderAndATimedWriterGiveUpAndLeaveTheQueue() {
        RwSemaphore sem = new RwSemaphore(f.platform, "rw");
        DrivenTask holder = f.task("writer-1");
        DrivenTask reader = f.task("reader");
        DrivenTask writer = f.task("writer-2");
        holder.run(sem::downWrite);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Op r = reader.runUntilBlocked(recording(sem::downReadInterruptible, thrown, interruptedAfter), sem);
        f.platform.interrupt(reader.task());
        awaitOk(r);
        assertInstanceOf(InterruptedException.class, thrown.get());
        AtomicBoolean got = new AtomicBoolean(true);
        writer.run(() -> got.set(sem.tryDownWrite(Duration.ofMillis(20))));
        assertFalse(got.get());
        reader.run(() -> got.set(sem.tryDownRead(Duration.ofMillis(20))));
        assertFalse(got.get());
        assertEquals(List.of(), sem.waitingTasks());
        holder.run(sem::upWrite);
        reader.run(() -> got.set(sem.tryDownRead(Duration.ofMillis(20))));
        assertTrue(got.get());
        reader.run(sem::upRead);
    }

    @Test
    void interruptibleSemaphoreCompletionAndWaitQueueSleepsEndWithInterruptedException() {
        Semaphore sem = new Semaphore(f.platform, "sem", 0);
        Completion done = new Completion(f.platform, "done");
        WaitQueue wq = new WaitQueue(f.platform, "wq");
        DrivenTask t = f.task("T");
        DrivenTask other = f.task("other");
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        for (Primitive p : List.of(sem, done, wq)) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Interruptible body = p == sem ? sem::downInterruptible : p == done ? done::waitForInterruptible
                    : () -> wq.waitEventInterruptible(() -> false);
            Op op = t.runUntilBlocked(recording(body, thrown, interruptedAfter), p);
            f.platform.interrupt(t.task());
            awaitOk(op);
            assertInstanceOf(InterruptedException.class, thrown.get(), p.describe());
            assertFalse(interruptedAfter.get());
        }
        assertEquals(List.of(), sem.waitingTasks());
        assertEquals(List.of(), done.waitingTasks());
        assertEquals(List.of(), wq.waitingTasks());
        // The interrupted down took nothing: the next up goes to the count, and the next down gets it.
        other.run(sem::up);
        assertEquals(1, sem.availablePermits());
        // A condition that holds wins over a pending interrupt.
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        t.run(recording(() -> {
            f.platform.interrupt(f.platform.currentTask());
            wq.waitEventInterruptible(() -> true);
        }, thrown, interruptedAfter));
        assertNull(thrown.get());
        assertTrue(interruptedAfter.get());
    }

    @Test
    void theValidatorHearsAFailedUntimedAcquisitionReleasedAndNothingOfAFailedTimedOne() {
        List<String> events = new CopyOnWriteArrayList<>();
        Mutex mutex = new Mutex(f.platform, "m");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(mutex::lock);
        f.platform.setLockEvents(new LockEvents() {
            @Override public void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock) {
                if (task == b.task()) {
                    events.add("acquire " + lock.name() + (trylock ? " try" : ""));
                }
            }
            @Override public void release(Task task, Primitive lock) {
                if (task == b.task()) {
                    events.add("release " + lock.name());
                }
            }
            @Override public void waitOn(Task task, Primitive event) { }
            @Override public void signal(Task task, Primitive event) { }
            @Override public void contextBoundary(Task task) { }
        });
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        Op op = b.runUntilBlocked(recording(mutex::lockInterruptible, thrown, interruptedAfter), mutex);
        f.platform.interrupt(b.task());
        awaitOk(op);
        assertEquals(List.of("acquire m", "release m"), events);
        events.clear();
        b.run(() -> assertFalse(mutex.tryLock(Duration.ofMillis(10))));
        assertEquals(List.of(), events, "a timed acquisition that failed adds nothing");
        a.run(mutex::unlock);
        b.run(() -> assertTrue(mutex.tryLock(Duration.ofMillis(10))));
        assertEquals(List.of("acquire m try"), events, "a timed acquisition is a try-lock to the validator");
        b.run(mutex::unlock);
        f.platform.setLockEvents(null);
    }
}
