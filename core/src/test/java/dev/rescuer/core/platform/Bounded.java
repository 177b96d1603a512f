package dev.rescuer.core.platform;

import dev.rescuer.core.testing.DrivenTask;

import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Bounded polling for tests of the platform and the layers above it: waits for a condition by
 * re-checking it, never by sleeping for a guessed time, and fails after {@link DrivenTask#PATIENCE}.
 * Used where {@link DrivenTask#awaitBlocked} cannot name the primitive by identity (a private
 * wait queue, a primitive created per call).
 */
public final class Bounded {

    private Bounded() {
    }


    /**
     * Closes {@code d} unless its task is blocked in the platform. A test that failed because an
     * operation never got released must report that failure, not hang in {@link DrivenTask#close()}
     * (which joins the task): the stuck task is a daemon thread and is left behind.
     */
    public static void closeUnlessBlocked(DrivenTask d) {
        if (d.task().state() != Task.State.BLOCKED) {
            d.close();
        }
    }

    /** Whether {@code task} sleeps right now on a primitive matching {@code on}. */
    public static boolean isBlockedOn(Task task, Predicate<Primitive> on) {
        Primitive p = task.waitingOn();
        return task.state() == Task.State.BLOCKED && p != null && on.test(p);
    }

    /** Matches a primitive by kind and instance name. */
    public static Predicate<Primitive> primitive(String kind, String name) {
        return p -> kind.equals(p.kind()) && name.equals(p.name());
    }

    /**
     * Polls until {@code task} is blocked on a primitive matching {@code on} while {@code op} is still
     * running; fails if {@code op} finishes first or the patience runs out.
     */
    public static void untilBlocked(Task task, Predicate<Primitive> on, String what, DrivenTask.Op op) {
        long deadline = System.nanoTime() + DrivenTask.PATIENCE.toNanos();
        while (!isBlockedOn(task, on)) {
            if (op.isDone()) {
                throw new AssertionError("task " + task + " finished its operation instead of blocking on " + what
                        + (op.failure() != null ? " (it threw " + op.failure() + ")" : ""));
            }
            if (System.nanoTime() > deadline) {
                Primitive p = task.waitingOn();
                throw new AssertionError("task " + task + " did not block on " + what + " within " + DrivenTask.PATIENCE
                        + "; it waits on " + (p == null ? "nothing" : p.describe()));
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
