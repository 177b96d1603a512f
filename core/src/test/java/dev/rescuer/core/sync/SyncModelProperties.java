package dev.rescuer.core.sync;

import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.DrivenTask;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single-task operation sequences checked step by step against a small reference model: the
 * semaphore and the completion against counters, the mutex and the rw-semaphore against their hold
 * state, including which calls are misuse and which are refused for atomic context.
 *
 * <p>Each sequence runs inside one {@link DrivenTask} operation, so a call that wrongly blocks fails
 * the bounded wait instead of hanging the run.
 */
class SyncModelProperties {

    /** Runs {@code body} as task "T" on a fresh platform; rethrows what it threw. */
    private static void inTask(java.util.function.Consumer<RealPlatform> body) {
        try (RealPlatform platform = new RealPlatform()) {
            DrivenTask t = new DrivenTask(platform, "T", new AtomicLong());
            try {
                t.run(() -> body.accept(platform));
            } finally {
                t.close();
            }
            assertEquals(List.of(), t.task().heldAtExit(), "a property must release what it took");
        }
    }

    /** Asserts a misuse error: exactly {@link IllegalStateException}, naming the primitive and the task. */
    private static void assertMisuse(Runnable call, Primitive p, Task self, String step) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call::run, step);
        assertSame(IllegalStateException.class, e.getClass(), () -> step + ": expected misuse, got " + e);
        assertTrue(e.getMessage().contains(p.describe()) && e.getMessage().contains(self.name()),
                () -> step + ": message should name " + p.describe() + " and " + self.name() + ": " + e.getMessage());
    }

    private static void assertAtomicRefused(Runnable call, Primitive p, String step) {
        AtomicContextException e = assertThrows(AtomicContextException.class, call::run, step);
        assertSame(p, e.primitive(), step);
    }

    // ------------------------------------------------------------------ semaphore

    enum SemOp { TRY_DOWN, UP, DOWN_TIMEOUT_ZERO, DOWN_IF_AVAILABLE }

    @Property(tries = 200)
    void semaphoreBehavesLikeACounter(@ForAll @IntRange(min = 0, max = 3) int initial,
                                      @ForAll @Size(max = 40) List<SemOp> ops) {
        inTask(platform -> {
            Semaphore sem = new Semaphore(platform, "sem", initial);
            int count = initial;
            for (int i = 0; i < ops.size(); i++) {
                String step = "step " + i + " " + ops.get(i) + " with model count " + count;
                switch (ops.get(i)) {
                    case TRY_DOWN -> {
                        assertEquals(count > 0, sem.tryDown(), step);
                        count = Math.max(0, count - 1);
                    }
                    case UP -> {
                        sem.up();
                        count++;
                    }
                    case DOWN_TIMEOUT_ZERO -> {
                        assertEquals(count > 0, sem.downTimeout(Duration.ZERO), step);
                        count = Math.max(0, count - 1);
                    }
                    case DOWN_IF_AVAILABLE -> {
                        if (count > 0) { // with no unit it would sleep forever in a one-task world
                            sem.down();
                            count--;
                        }
                    }
                }
                assertEquals(count, sem.availablePermits(), step);
                assertEquals(List.of(), sem.waitingTasks(), step);
            }
        });
    }

    // ------------------------------------------------------------------ completion

    enum CompletionOp { COMPLETE, COMPLETE_ALL, TRY_WAIT, REINIT, WAIT_ZERO, WAIT_IF_DONE }

    @Property(tries = 200)
    void completionBehavesLikeACounterWithAnAllState(@ForAll @Size(max = 40) List<CompletionOp> ops) {
        inTask(platform -> {
            Completion c = new Completion(platform, "done");
            int done = 0;
            boolean all = false;
            for (int i = 0; i < ops.size(); i++) {
                boolean available = all || done > 0;
                String step = "step " + i + " " + ops.get(i) + " with model done=" + done + " all=" + all;
                switch (ops.get(i)) {
                    case COMPLETE -> {
                        c.complete();
                        if (!all) {
                            done++;
                        }
                    }
                    case COMPLETE_ALL -> {
                        c.completeAll();
                        all = true;
                    }
                    case TRY_WAIT -> assertEquals(available, c.tryWaitFor(), step);
                    case WAIT_ZERO -> assertEquals(available, c.waitFor(Duration.ZERO), step);
                    case WAIT_IF_DONE -> {
                        if (available) {
                            c.waitFor();
                        }
                    }
                    case REINIT -> {
                        c.reinit();
                        done = 0;
                        all = false;
                    }
                }
                boolean consumed = available && (ops.get(i) == CompletionOp.TRY_WAIT
                        || ops.get(i) == CompletionOp.WAIT_ZERO || ops.get(i) == CompletionOp.WAIT_IF_DONE);
                if (consumed && !all) {
                    done--;
                }
                assertEquals(all || done > 0, c.isDone(), step);
                assertEquals(List.of(), c.waitingTasks(), step);
            }
        });
    }

    // ------------------------------------------------------------------ mutex

    enum MutexOp { LOCK, TRY_LOCK, UNLOCK, TOGGLE_SPIN }

    @Property(tries = 200)
    void mutexFollowsItsHoldModelAndRefusesMisuse(@ForAll @Size(max = 40) List<MutexOp> ops) {
        inTask(platform -> {
            Mutex m = new Mutex(platform, "m");
            SpinLock spin = new SpinLock(platform, "spin");
            Task self = platform.currentTask();
            boolean held = false;
            boolean atomic = false;
            for (int i = 0; i < ops.size(); i++) {
                String step = "step " + i + " " + ops.get(i) + " with model held=" + held + " atomic=" + atomic;
                switch (ops.get(i)) {
                    case LOCK -> {
                        if (atomic) {
                            assertAtomicRefused(m::lock, m, step);
                        } else if (held) {
                            assertMisuse(m::lock, m, self, step);
                        } else {
                            m.lock();
                            held = true;
                        }
                    }
                    case TRY_LOCK -> {
                        assertEquals(!held, m.tryLock(), step);
                        held = true;
                    }
                    case UNLOCK -> {
                        if (held) {
                            m.unlock();
                            held = false;
                        } else {
                            assertMisuse(m::unlock, m, self, step);
                        }
                    }
                    case TOGGLE_SPIN -> {
                        if (atomic) {
                            spin.unlock();
                        } else {
                            spin.lock();
                        }
                        atomic = !atomic;
                    }
                }
                assertEquals(held, m.isLocked(), step);
                assertEquals(held ? self : null, m.owner(), step);
                assertEquals(held, m.isHeldByCurrentTask(), step);
                assertEquals(held ? 1 : 0, count(self.heldPrimitives(), m), step);
                assertEquals(atomic, self.inAtomic(), step);
                assertEquals(List.of(), m.waitingTasks(), step);
            }
            if (atomic) {
                spin.unlock();
            }
            if (held) {
                m.unlock(); // the task must not exit holding it
            }
        });
    }

    // ------------------------------------------------------------------ rw-semaphore

    enum RwOp { DOWN_READ, DOWN_WRITE, TRY_DOWN_READ, TRY_DOWN_WRITE, UP_READ, UP_WRITE, DOWNGRADE, TOGGLE_SPIN }

    @Property(tries = 200)
    void rwSemaphoreFollowsItsHoldModelAndRefusesMisuse(@ForAll @Size(max = 40) List<RwOp> ops) {
        inTask(platform -> {
            RwSemaphore rw = new RwSemaphore(platform, "rw");
            SpinLock spin = new SpinLock(platform, "spin");
            Task self = platform.currentTask();
            int reads = 0;
            boolean write = false;
            boolean atomic = false;
            for (int i = 0; i < ops.size(); i++) {
                String step = "step " + i + " " + ops.get(i) + " with model reads=" + reads + " write=" + write
                        + " atomic=" + atomic;
                switch (ops.get(i)) {
                    case DOWN_READ -> {
                        if (atomic) {
                            assertAtomicRefused(rw::downRead, rw, step);
                        } else if (write) {
                            assertMisuse(rw::downRead, rw, self, step);
                        } else {
                            rw.downRead(); // recursive read with no writer queued is fine
                            reads++;
                        }
                    }
                    case DOWN_WRITE -> {
                        if (atomic) {
                            assertAtomicRefused(rw::downWrite, rw, step);
                        } else if (write || reads > 0) {
                            assertMisuse(rw::downWrite, rw, self, step);
                        } else {
                            rw.downWrite();
                            write = true;
                        }
                    }
                    case TRY_DOWN_READ -> {
                        assertEquals(!write, rw.tryDownRead(), step);
                        if (!write) {
                            reads++;
                        }
                    }
                    case TRY_DOWN_WRITE -> {
                        boolean free = !write && reads == 0;
                        assertEquals(free, rw.tryDownWrite(), step);
                        write |= free;
                    }
                    case UP_READ -> {
                        if (write || reads == 0) {
                            assertMisuse(rw::upRead, rw, self, step);
                        } else {
                            rw.upRead();
                            reads--;
                        }
                    }
                    case UP_WRITE -> {
                        if (!write) {
                            assertMisuse(rw::upWrite, rw, self, step);
                        } else {
                            rw.upWrite();
                            write = false;
                        }
                    }
                    case DOWNGRADE -> {
                        if (!write) {
                            assertMisuse(rw::downgradeWrite, rw, self, step);
                        } else {
                            rw.downgradeWrite();
                            write = false;
                            reads = 1;
                        }
                    }
                    case TOGGLE_SPIN -> {
                        if (atomic) {
                            spin.unlock();
                        } else {
                            spin.lock();
                        }
                        atomic = !atomic;
                    }
                }
                assertEquals(reads, rw.readers(), step);
                if (write) {
                    assertSame(self, rw.writer(), step);
                } else {
                    assertNull(rw.writer(), step);
                }
                assertEquals(reads + (write ? 1 : 0), count(self.heldPrimitives(), rw), step);
                assertEquals(atomic, self.inAtomic(), step);
                assertEquals(List.of(), rw.queuedReaders(), step);
                assertEquals(List.of(), rw.queuedWriters(), step);
            }
            if (atomic) {
                spin.unlock();
            }
            if (write) {
                rw.upWrite();
            }
            for (int i = 0; i < reads; i++) {
                rw.upRead(); // the task must not exit holding it
            }
        });
    }

    private static long count(List<Primitive> held, Primitive p) {
        return held.stream().filter(x -> x == p).count();
    }
}
