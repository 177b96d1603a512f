package dev.rescuer.core.sync;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared helpers for the sync tests: a per-test fixture (a fresh {@link RealPlatform}, a completion
 * sequence and the driven tasks started on it) and bounded polls in the style of {@link DrivenTask}.
 * Nothing here sleeps for a fixed time: every wait polls a condition and fails after
 * {@link DrivenTask#PATIENCE}.
 */
final class SyncTesting {

    private SyncTesting() {
    }

    /** A fresh platform and the driven tasks of one test; closing it stops the tasks, then the platform. */
    static final class Fixture implements AutoCloseable {
        final RealPlatform platform = new RealPlatform();
        final AtomicLong sequence = new AtomicLong();
        private final List<DrivenTask> tasks = new ArrayList<>();

        DrivenTask task(String name) {
            DrivenTask t = new DrivenTask(platform, name, sequence);
            tasks.add(t);
            return t;
        }

        @Override
        public void close() {
            Throwable first = null;
            for (DrivenTask t : tasks) {
                try {
                    t.close();
                } catch (Throwable e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            platform.close();
            if (first instanceof Error) {
                throw (Error) first;
            }
            if (first instanceof RuntimeException) {
                throw (RuntimeException) first;
            }
        }
    }


    /** Waits until at least one of {@code ops} has finished and returns the first finished one found. */
    static DrivenTask.Op awaitAnyDone(DrivenTask.Op... ops) {
        DrivenTask.Op[] found = new DrivenTask.Op[1];
        Poll.until("one of " + ops.length + " operations finishes", () -> {
            for (DrivenTask.Op op : ops) {
                if (op.isDone()) {
                    found[0] = op;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Waits for {@code op} and rethrows what it threw. */
    static void awaitOk(DrivenTask.Op op) {
        DrivenTask.awaitDone(op);
        DrivenTask.rethrow(op);
    }

    /**
     * Asserts that {@code t} is asleep on {@code on} and that {@code op} has not finished. Only call it
     * where nothing can release the task, so the assertion is not a race.
     */
    static void assertBlockedOn(DrivenTask t, Primitive on, DrivenTask.Op op) {
        assertFalse(op.isDone(), () -> "operation of " + t.task() + " finished, but it should still wait on " + on);
        assertSame(Task.State.BLOCKED, t.task().state(), () -> t.task() + " should be blocked");
        assertSame(on, t.task().waitingOn(), () -> t.task() + " should wait on " + on);
    }

    /** Asserts that {@code t} is idle: not blocked and waiting on nothing. */
    static void assertNotWaiting(DrivenTask t) {
        assertSame(Task.State.RUNNING, t.task().state());
        assertNull(t.task().waitingOn());
    }

    /**
     * Runs {@code call}, which must throw {@code type} with a message naming {@code primitive} (its
     * {@link Primitive#describe()}, which carries kind and name) and the task {@code task} (by name),
     * plus every extra fragment.
     */
    static <T extends Throwable> T assertMisuse(Class<T> type, Executable call, Primitive primitive, Task task,
                                                String... fragments) {
        T e = assertThrows(type, call);
        String m = e.getMessage();
        assertTrue(m != null && m.contains(primitive.describe()),
                () -> "message should name " + primitive.describe() + ": " + m);
        if (task != null) {
            assertTrue(m.contains(task.name()), () -> "message should name task " + task.name() + ": " + m);
        }
        for (String f : fragments) {
            assertTrue(m.contains(f), () -> "message should contain \"" + f + "\": " + m);
        }
        return e;
    }

    /** Asserts that the ops completed in exactly the given order (by completion sequence number). */
    static void assertCompletionOrder(DrivenTask.Op... ops) {
        for (DrivenTask.Op op : ops) {
            assertTrue(op.isDone(), "every op in the order must be done");
        }
        for (int i = 1; i < ops.length; i++) {
            int k = i;
            assertTrue(ops[i - 1].completedAt() < ops[i].completedAt(),
                    () -> "op #" + (k - 1) + " (seq " + ops[k - 1].completedAt() + ") should complete before op #" + k
                            + " (seq " + ops[k].completedAt() + ")");
        }
    }
}
