package dev.rescuer.core.sync;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.SleepListener;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.sync.SyncTesting.assertNotWaiting;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the primitives write into the {@link Task} record: held primitives, the wait target and state
 * of a sleeper, and the {@link SleepListener} notifications around a real sleep.
 */
class TaskRecordTest {

    private final Fixture f = new Fixture();

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void heldPrimitivesFollowLockAndUnlockInAcquisitionOrder() {
        Mutex m1 = new Mutex(f.platform, "m1");
        Mutex m2 = new Mutex(f.platform, "m2");
        RwSemaphore rw = new RwSemaphore(f.platform, "rw");
        DrivenTask a = f.task("A");
        a.run(m1::lock);
        assertEquals(List.of(m1), a.task().heldPrimitives());
        assertTrue(a.task().holds(m1));
        a.run(rw::downRead);
        a.run(m2::lock);
        assertEquals(List.of(m1, rw, m2), a.task().heldPrimitives());
        a.run(m1::unlock); // releases may come in any order
        assertEquals(List.of(rw, m2), a.task().heldPrimitives());
        assertFalse(a.task().holds(m1));
        a.run(rw::upRead);
        a.run(m2::unlock);
        assertEquals(List.of(), a.task().heldPrimitives());
    }

    @Test
    void aLockHandedOverToASleeperIsRecordedOnTheSleeper() {
        Mutex m = new Mutex(f.platform, "m");
        RwSemaphore rw = new RwSemaphore(f.platform, "rw");
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        a.run(m::lock);
        a.run(rw::downWrite);
        Op bm = b.runUntilBlocked(m::lock, m);
        assertFalse(b.task().holds(m), "a sleeper does not hold what it waits for");
        a.run(m::unlock);
        awaitOk(bm);
        assertEquals(List.of(m), b.task().heldPrimitives());
        assertEquals(List.of(rw), a.task().heldPrimitives());
        Op br = b.runUntilBlocked(rw::downRead, rw);
        a.run(rw::upWrite);
        awaitOk(br);
        assertEquals(List.of(m, rw), b.task().heldPrimitives());
        assertEquals(List.of(), a.task().heldPrimitives());
        b.run(rw::upRead);
        b.run(m::unlock);
    }

    @Test
    void aBlockedTaskRecordsWhatItWaitsOnAndSinceWhen() {
        Mutex m = new Mutex(f.platform, "m");
        RwSemaphore rw = new RwSemaphore(f.platform, "rw");
        Semaphore sem = new Semaphore(f.platform, "sem", 0);
        Completion c = new Completion(f.platform, "c");
        WaitQueue wq = new WaitQueue(f.platform, "wq");
        DrivenTask holder = f.task("holder");
        DrivenTask a = f.task("A");
        holder.run(m::lock);
        holder.run(rw::downWrite);

        long before = f.platform.nanoTime();
        Op op = a.runUntilBlocked(m::lock, m);
        long after = f.platform.nanoTime();
        assertBlocked(a, m, before, after);
        holder.run(m::unlock);
        awaitOk(op);
        assertNotWaiting(a);
        a.run(m::unlock);

        op = a.runUntilBlocked(rw::downRead, rw);
        assertBlocked(a, rw, before, f.platform.nanoTime());
        holder.run(rw::upWrite);
        awaitOk(op);
        assertNotWaiting(a);
        a.run(rw::upRead);
        holder.run(rw::downRead);
        op = a.runUntilBlocked(rw::downWrite, rw);
        assertBlocked(a, rw, before, f.platform.nanoTime());
        holder.run(rw::upRead);
        awaitOk(op);
        a.run(rw::upWrite);

        op = a.runUntilBlocked(sem::down, sem);
        assertBlocked(a, sem, before, f.platform.nanoTime());
        sem.up();
        awaitOk(op);
        assertNotWaiting(a);

        op = a.runUntilBlocked(c::waitFor, c);
        assertBlocked(a, c, before, f.platform.nanoTime());
        c.complete();
        awaitOk(op);
        assertNotWaiting(a);

        AtomicBoolean cond = new AtomicBoolean();
        op = a.runUntilBlocked(() -> wq.waitEvent(cond::get), wq);
        assertBlocked(a, wq, before, f.platform.nanoTime());
        cond.set(true);
        wq.wakeUp();
        awaitOk(op);
        assertNotWaiting(a);
    }

    private static void assertBlocked(DrivenTask t, Primitive on, long notBefore, long notAfter) {
        assertSame(Task.State.BLOCKED, t.task().state());
        assertSame(on, t.task().waitingOn());
        long since = t.task().waitingSinceNanos();
        assertTrue(since - notBefore >= 0 && notAfter - since >= 0,
                "the wait must have begun while the operation was running");
    }

    /** Records the listener calls, and what the task record said at each. */
    private static final class RecordingListener implements SleepListener {
        final AtomicInteger sleeping = new AtomicInteger();
        final AtomicInteger running = new AtomicInteger();
        final List<Task> tasks = new CopyOnWriteArrayList<>();

        @Override
        public void sleeping(Task task) {
            sleeping.incrementAndGet();
            tasks.add(task);
        }

        @Override
        public void running(Task task) {
            running.incrementAndGet();
            tasks.add(task);
        }
    }

    @Test
    void theSleepListenerIsToldAroundARealSleepOnly() {
        Mutex m = new Mutex(f.platform, "m");
        DrivenTask holder = f.task("holder");
        DrivenTask a = f.task("A");
        RecordingListener l = new RecordingListener();
        a.run(() -> a.task().setSleepListener(l)); // only the task itself installs its listener
        assertSame(l, a.task().sleepListener());

        a.run(m::lock); // uncontended: no sleep
        a.run(m::unlock);
        assertEquals(0, l.sleeping.get());
        assertEquals(0, l.running.get());

        holder.run(m::lock);
        Op op = a.runUntilBlocked(m::lock, m);
        Poll.until("the listener hears that A sleeps", () -> l.sleeping.get() == 1);
        assertEquals(0, l.running.get(), "A has not run again yet");
        holder.run(m::unlock);
        awaitOk(op);
        assertEquals(1, l.sleeping.get());
        assertEquals(1, l.running.get(), "running() comes before the blocking call returns");
        assertEquals(List.of(a.task(), a.task()), l.tasks);
        a.run(m::unlock);

        // A timed-out sleep is a sleep too.
        Semaphore sem = new Semaphore(f.platform, "sem", 0);
        AtomicBoolean got = new AtomicBoolean(true);
        a.run(() -> got.set(sem.downTimeout(Duration.ofMillis(20))));
        assertFalse(got.get());
        assertEquals(2, l.sleeping.get());
        assertEquals(2, l.running.get());

        // Other tasks' sleeps are not reported to A's listener.
        Op hOp = holder.runUntilBlocked(sem::down, sem);
        sem.up();
        awaitOk(hOp);
        assertEquals(2, l.sleeping.get());
        assertEquals(2, l.running.get());
    }

    @Test
    void anInterruptDoesNotEndASleepAndIsKeptForTheTask() {
        // Sleeps in primitives are uninterruptible, like TASK_UNINTERRUPTIBLE; the interrupt stays set.
        Semaphore sem = new Semaphore(f.platform, "sem", 0);
        DrivenTask a = f.task("A");
        AtomicReference<Thread> thread = new AtomicReference<>();
        AtomicBoolean interruptedAfter = new AtomicBoolean();
        a.run(() -> thread.set(Thread.currentThread()));
        Op op = a.runUntilBlocked(() -> {
            sem.down();
            interruptedAfter.set(Thread.interrupted()); // also clears it for the driven task's own loop
        }, sem);
        thread.get().interrupt();
        a.awaitBlocked(sem, op);
        assertEquals(List.of(a.task()), sem.waitingTasks(), "the interrupted sleeper is still queued");
        sem.up();
        awaitOk(op);
        assertTrue(interruptedAfter.get(), "the interrupt must still be set when the wait returns");
        assertEquals(0, sem.availablePermits(), "the sleeper consumed the unit");
    }

    @Test
    void theSleepListenerMayWakeAnotherTaskWhileItsOwnerGoesToSleep() {
        // The concurrency-management pattern: a worker about to sleep wakes a spare.
        Semaphore spare = new Semaphore(f.platform, "spare", 0);
        Completion work = new Completion(f.platform, "work");
        DrivenTask worker = f.task("worker");
        DrivenTask idle = f.task("idle");
        Op idleOp = idle.runUntilBlocked(spare::down, spare);
        worker.run(() -> worker.task().setSleepListener(new SleepListener() {
            @Override
            public void sleeping(Task task) {
                spare.up();
            }

            @Override
            public void running(Task task) {
            }
        }));
        Op workOp = worker.runUntilBlocked(work::waitFor, work);
        awaitOk(idleOp); // the spare was woken from inside the worker's sleeping() hook
        work.complete();
        awaitOk(workOp);
    }
}
