package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.awaitAnyDone;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two to four driven tasks doing random blocking operations on one primitive, checked step by step
 * against a model of its queue (FIFO, but for the rw-semaphore's phase-fair reader grants).
 *
 * <p>Only what the design makes deterministic is asserted. The semaphore, the rw-semaphore and the
 * completion grant directly, inside the releasing call, so after each step the model predicts the
 * exact queue, which sleepers have been let through, and the order in which acquisitions complete.
 * The mutex only wakes its first sleeper and lets newcomers barge, so for it the property checks
 * mutual exclusion, that a release lets exactly one sleeper in, and that everybody gets the mutex in
 * the end.
 *
 * <p>A script is a list of numbers; each picks an operation kind and a task (the next idle task from
 * there, if that one is asleep).
 */
class SyncConcurrencyProperties {

    /** One acquisition: its task, its driven operation, and the step at which the model says it completes. */
    private static final class Acq {
        final int task;
        final Op op;
        final int mode;
        int grantedAt = -1;

        Acq(int task, Op op, int mode) {
            this.task = task;
            this.op = op;
            this.mode = mode;
        }
    }

    private static DrivenTask[] start(Fixture f, int n) {
        DrivenTask[] ts = new DrivenTask[n];
        for (int i = 0; i < n; i++) {
            ts[i] = f.task("T" + i);
        }
        return ts;
    }

    /** The first task at or after {@code from} that is not asleep in an acquisition, or -1. */
    private static int idleFrom(int from, Acq[] pending) {
        for (int k = 0; k < pending.length; k++) {
            int i = (from + k) % pending.length;
            if (pending[i] == null) {
                return i;
            }
        }
        return -1;
    }

    private static List<Task> tasksOf(DrivenTask[] ts, Iterable<Acq> queue, int mode) {
        List<Task> out = new ArrayList<>();
        for (Acq a : queue) {
            if (mode < 0 || a.mode == mode) {
                out.add(ts[a.task].task());
            }
        }
        return out;
    }

    /**
     * Acquisitions completed in different steps must have completed in step order (acquisitions let in
     * together in one step may finish in any order among themselves).
     */
    private static void assertCompletedInStepOrder(List<Acq> completed) {
        for (Acq a : completed) {
            assertTrue(a.op.isDone());
            DrivenTask.rethrow(a.op);
        }
        for (Acq a : completed) {
            for (Acq b : completed) {
                if (a.grantedAt < b.grantedAt) {
                    assertTrue(a.op.completedAt() < b.op.completedAt(),
                            "acquisition granted at step " + a.grantedAt + " completed after one granted at step "
                                    + b.grantedAt);
                }
            }
        }
    }

    // ------------------------------------------------------------------ semaphore

    @Property(tries = 150)
    void semaphoreGrantsUnitsToSleepersInFifoOrder(@ForAll @IntRange(min = 2, max = 4) int n,
                                                   @ForAll @IntRange(min = 0, max = 2) int initial,
                                                   @ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 999) Integer> script) {
        try (Fixture f = new Fixture()) {
            Semaphore sem = new Semaphore(f.platform, "sem", initial);
            DrivenTask[] ts = start(f, n);
            Acq[] pending = new Acq[n];
            ArrayDeque<Acq> queue = new ArrayDeque<>();
            List<Acq> completed = new ArrayList<>();
            int count = initial;
            int step = 0;
            for (int v : script) {
                step++;
                int who = idleFrom(v / 3 % n, pending);
                if (v % 3 == 0 && who >= 0) {
                    Acq a;
                    if (count > 0) {
                        count--;
                        a = new Acq(who, ts[who].submit(sem::down), 0);
                        awaitOk(a.op);
                        a.grantedAt = step;
                        completed.add(a);
                    } else {
                        a = new Acq(who, ts[who].runUntilBlocked(sem::down, sem), 0);
                        pending[who] = a;
                        queue.addLast(a);
                    }
                } else {
                    // up() from an idle task, or from the test's own task when every task sleeps
                    if (who >= 0 && v % 3 == 1) {
                        ts[who].run(sem::up);
                    } else {
                        sem.up();
                    }
                    Acq head = queue.pollFirst();
                    if (head == null) {
                        count++;
                    } else {
                        pending[head.task] = null;
                        head.grantedAt = step;
                        awaitOk(head.op);
                        completed.add(head);
                    }
                }
                assertEquals(count, sem.availablePermits(), "count after step " + step);
                assertEquals(tasksOf(ts, queue, -1), sem.waitingTasks(), "queue after step " + step);
                for (Acq a : queue) {
                    assertBlockedOn(ts[a.task], sem, a.op);
                }
            }
            while (!queue.isEmpty()) {
                step++;
                sem.up();
                Acq head = queue.pollFirst();
                pending[head.task] = null;
                head.grantedAt = step;
                awaitOk(head.op);
                completed.add(head);
                assertEquals(tasksOf(ts, queue, -1), sem.waitingTasks());
            }
            assertEquals(count, sem.availablePermits());
            assertCompletedInStepOrder(completed);
        }
    }

    // ------------------------------------------------------------------ rw-semaphore

    private static final int READ = 0;
    private static final int WRITE = 1;
    private static final int NONE = -1;

    /** The rw-semaphore model: readers, writer, the queue (phase-fair for readers), and what each task holds. */
    private static final class RwModel {
        int readers;
        int writer = NONE;
        final ArrayDeque<Acq> queue = new ArrayDeque<>();
        final int[] holds;

        RwModel(int n) {
            holds = new int[n];
            java.util.Arrays.fill(holds, NONE);
        }

        /** Grants the head of the queue as the rw-semaphore must; returns who was let in. */
        List<Acq> grantHead(Acq[] pending, int step) {
            List<Acq> let = new ArrayList<>();
            if (writer != NONE || queue.isEmpty()) {
                return let;
            }
            if (queue.peekFirst().mode == WRITE) {
                if (readers == 0) {
                    Acq w = queue.pollFirst();
                    writer = w.task;
                    holds[w.task] = WRITE;
                    let.add(w);
                }
            } else {
                // Phase-fair (rwsem_mark_wake): every queued reader, also behind writers. The model has
                // at most 4 tasks, far below MAX_READERS_WAKEUP.
                for (java.util.Iterator<Acq> it = queue.iterator(); it.hasNext(); ) {
                    Acq r = it.next();
                    if (r.mode == READ) {
                        it.remove();
                        readers++;
                        holds[r.task] = READ;
                        let.add(r);
                    }
                }
            }
            for (Acq a : let) {
                pending[a.task] = null;
                a.grantedAt = step;
            }
            return let;
        }
    }

    @Property(tries = 150)
    void rwSemaphoreHandsOverPhaseFairWithWriterPreference(@ForAll @IntRange(min = 2, max = 4) int n,
                                                             @ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 999) Integer> script) {
        try (Fixture f = new Fixture()) {
            RwSemaphore rw = new RwSemaphore(f.platform, "rw");
            DrivenTask[] ts = start(f, n);
            Acq[] pending = new Acq[n];
            RwModel m = new RwModel(n);
            List<Acq> completed = new ArrayList<>();
            int step = 0;
            for (int v : script) {
                step++;
                int who = idleFrom(v / 3 % n, pending);
                assertTrue(who >= 0, "somebody holds the lock whenever somebody waits, so some task is idle");
                rwStep(rw, ts, pending, m, completed, who, v % 3, step);
            }
            // Drain: release every hold until nobody holds or waits.
            while (m.readers > 0 || m.writer != NONE) {
                step++;
                int who = -1;
                for (int i = 0; i < n; i++) {
                    if (m.holds[i] != NONE) {
                        who = i;
                        break;
                    }
                }
                rwStep(rw, ts, pending, m, completed, who, 1, step);
            }
            assertTrue(m.queue.isEmpty());
            assertCompletedInStepOrder(completed);
        }
    }

    private static void rwStep(RwSemaphore rw, DrivenTask[] ts, Acq[] pending, RwModel m, List<Acq> completed,
                               int who, int kind, int step) {
        DrivenTask t = ts[who];
        List<Acq> let = List.of();
        if (m.holds[who] == NONE) {
            int mode = kind == 0 ? WRITE : READ;
            boolean now = mode == READ
                    ? m.writer == NONE && m.queue.isEmpty()
                    : m.writer == NONE && m.readers == 0 && m.queue.isEmpty();
            Runnable call = mode == READ ? rw::downRead : rw::downWrite;
            Acq a;
            if (now) {
                a = new Acq(who, t.submit(call), mode);
                awaitOk(a.op);
                a.grantedAt = step;
                completed.add(a);
                if (mode == READ) {
                    m.readers++;
                } else {
                    m.writer = who;
                }
                m.holds[who] = mode;
            } else {
                a = new Acq(who, t.runUntilBlocked(call, rw), mode);
                pending[who] = a;
                m.queue.addLast(a);
            }
        } else if (m.holds[who] == READ) {
            t.run(rw::upRead);
            m.holds[who] = NONE;
            m.readers--;
            if (m.readers == 0) {
                let = m.grantHead(pending, step);
            }
        } else if (kind == 2) {
            t.run(rw::downgradeWrite);
            m.writer = NONE;
            m.readers = 1;
            m.holds[who] = READ;
            let = m.grantHead(pending, step);
        } else {
            t.run(rw::upWrite);
            m.writer = NONE;
            m.holds[who] = NONE;
            let = m.grantHead(pending, step);
        }
        for (Acq a : let) {
            awaitOk(a.op);
            completed.add(a);
        }
        String when = "after step " + step;
        assertEquals(m.readers, rw.readers(), "readers " + when);
        if (m.writer == NONE) {
            assertNull(rw.writer(), "writer " + when);
        } else {
            assertSame(ts[m.writer].task(), rw.writer(), "writer " + when);
        }
        assertEquals(tasksOf(ts, m.queue, READ), rw.queuedReaders(), "queued readers " + when);
        assertEquals(tasksOf(ts, m.queue, WRITE), rw.queuedWriters(), "queued writers " + when);
        assertEquals(m.queue.stream().anyMatch(a -> a.mode == WRITE), rw.hasQueuedWriter(), when);
        for (Acq a : m.queue) {
            assertBlockedOn(ts[a.task], rw, a.op);
        }
        for (int i = 0; i < ts.length; i++) {
            assertEquals(m.holds[i] != NONE, ts[i].task().holds(rw), "T" + i + " holds " + when);
        }
    }

    // ------------------------------------------------------------------ completion

    @Property(tries = 150)
    void completionReleasesWaitersInFifoOrder(@ForAll @IntRange(min = 2, max = 4) int n,
                                              @ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 999) Integer> script) {
        try (Fixture f = new Fixture()) {
            Completion c = new Completion(f.platform, "done");
            DrivenTask[] ts = start(f, n);
            Acq[] pending = new Acq[n];
            ArrayDeque<Acq> queue = new ArrayDeque<>();
            List<Acq> completed = new ArrayList<>();
            int done = 0;
            boolean all = false;
            int step = 0;
            for (int v : script) {
                step++;
                int who = idleFrom(v / 6 % n, pending);
                int kind = v % 6;
                List<Acq> let = new ArrayList<>();
                if (kind <= 2 && who >= 0) {
                    if (all || done > 0) {
                        Acq a = new Acq(who, ts[who].submit(c::waitFor), 0);
                        awaitOk(a.op);
                        a.grantedAt = step;
                        completed.add(a);
                        if (!all) {
                            done--;
                        }
                    } else {
                        Acq a = new Acq(who, ts[who].runUntilBlocked(c::waitFor, c), 0);
                        pending[who] = a;
                        queue.addLast(a);
                    }
                } else if (kind == 5) {
                    c.reinit();
                    done = 0;
                    all = false;
                } else if (kind == 4 && v % 4 == 0) {
                    c.completeAll();
                    all = true;
                    let.addAll(queue);
                    queue.clear();
                } else {
                    if (who >= 0) {
                        ts[who].run(c::complete);
                    } else {
                        c.complete();
                    }
                    Acq head = queue.pollFirst();
                    if (head != null) {
                        let.add(head);
                    } else if (!all) {
                        done++;
                    }
                }
                for (Acq a : let) {
                    pending[a.task] = null;
                    a.grantedAt = step;
                    awaitOk(a.op);
                    completed.add(a);
                }
                assertEquals(all || done > 0, c.isDone(), "isDone after step " + step);
                assertEquals(tasksOf(ts, queue, -1), c.waitingTasks(), "queue after step " + step);
                for (Acq a : queue) {
                    assertBlockedOn(ts[a.task], c, a.op);
                }
            }
            c.completeAll();
            for (Acq a : queue) {
                a.grantedAt = step + 1;
                awaitOk(a.op);
                completed.add(a);
            }
            assertCompletedInStepOrder(completed);
        }
    }

    // ------------------------------------------------------------------ mutex

    @Property(tries = 150)
    void mutexLetsOneTaskInAtATimeAndEveryoneEventually(@ForAll @IntRange(min = 2, max = 4) int n,
                                                        @ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 999) Integer> script) {
        try (Fixture f = new Fixture()) {
            Mutex mutex = new Mutex(f.platform, "m");
            DrivenTask[] ts = start(f, n);
            Acq[] pending = new Acq[n];
            int owner = NONE;
            int step = 0;
            for (int v : script) {
                step++;
                int who = idleFrom(v % n, pending);
                assertTrue(who >= 0, "the owner is never asleep, so some task is idle");
                if (who == owner) {
                    owner = mutexUnlock(mutex, ts, pending, who);
                } else {
                    if (owner == NONE) {
                        ts[who].run(mutex::lock);
                        owner = who;
                    } else {
                        pending[who] = new Acq(who, ts[who].runUntilBlocked(mutex::lock, mutex), 0);
                    }
                }
                assertMutexState(mutex, ts, pending, owner);
            }
            while (owner != NONE) {
                owner = mutexUnlock(mutex, ts, pending, owner);
                assertMutexState(mutex, ts, pending, owner);
            }
            for (Acq a : pending) {
                assertNull(a, "every sleeper got the mutex in the end");
            }
            assertFalse(mutex.isLocked());
        }
    }

    /** Unlocks from {@code who}; if anybody sleeps, waits for exactly one of them to take over. */
    private static int mutexUnlock(Mutex mutex, DrivenTask[] ts, Acq[] pending, int who) {
        ts[who].run(mutex::unlock);
        List<Op> sleeping = new ArrayList<>();
        for (Acq a : pending) {
            if (a != null) {
                sleeping.add(a.op);
            }
        }
        if (sleeping.isEmpty()) {
            return NONE;
        }
        Op first = awaitAnyDone(sleeping.toArray(new Op[0]));
        DrivenTask.rethrow(first);
        int next = NONE;
        for (int i = 0; i < pending.length; i++) {
            if (pending[i] != null && pending[i].op == first) {
                next = i;
            }
        }
        pending[next] = null;
        return next;
    }

    private static void assertMutexState(Mutex mutex, DrivenTask[] ts, Acq[] pending, int owner) {
        if (owner == NONE) {
            assertNull(mutex.owner());
        } else {
            assertSame(ts[owner].task(), mutex.owner());
        }
        List<Task> sleepers = new ArrayList<>();
        for (int i = 0; i < pending.length; i++) {
            assertEquals(i == owner, ts[i].task().holds(mutex), "T" + i + " holds the mutex");
            if (pending[i] != null) {
                // Nobody else can be let in while the owner holds it: exactly one task got through.
                assertBlockedOn(ts[i], mutex, pending[i].op);
                sleepers.add(ts[i].task());
            }
        }
        assertEquals(sleepers.size(), mutex.waitingTasks().size());
        assertTrue(mutex.waitingTasks().containsAll(sleepers));
    }
}
