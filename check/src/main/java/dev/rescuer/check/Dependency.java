package dev.rescuer.check;

import dev.rescuer.core.platform.LockEvents;

import java.util.List;

/**
 * An edge of the dependency graph: while a task held (or was about to signal) {@link #from()}, it
 * acquired or waited on {@link #to()}. Recorded once per pair of classes and modes, with the task
 * and the Java stack of the first time, as lockdep keeps the first trace of each dependency.
 *
 * @param from the class held (for a {@link Type#SIGNAL} edge: the event about to be signalled)
 * @param to the class acquired or waited on
 * @param fromMode how {@code from} was held ({@link LockEvents#EXCLUSIVE}, {@code SHARED}, {@code RECURSIVE})
 * @param toMode how {@code to} was acquired; waits on events are exclusive
 * @param type what the task did
 * @param task the name of the task that first recorded it
 * @param via for a {@link Type#SIGNAL} learned from a handed-on event's context rather than the
 *     signaller's own: the event and the owner that acquired or waited on {@code to} while it owned
 *     the event ({@link EventContext#via}); {@code null} otherwise
 * @param stack where, innermost frame first, without the validator's own frames
 */
public record Dependency(LockClass from, LockClass to, int fromMode, int toMode, Type type, String task,
                         String via, List<StackTraceElement> stack) {

    /** What a task did to record a dependency. */
    public enum Type {
        /** Acquired {@code to} while holding {@code from}. */
        LOCK,
        /** Waited on the event {@code to} while holding {@code from}. */
        WAIT,
        /** Signalled the event {@code from} after acquiring or waiting on {@code to} in the same context. */
        SIGNAL
    }

    /** The mode's word in reports: {@code write}, {@code read}, {@code recursive}. */
    static String modeName(int mode) {
        switch (mode) {
            case LockEvents.EXCLUSIVE: return "write";
            case LockEvents.SHARED: return "read";
            case LockEvents.RECURSIVE: return "recursive-read";
            default: throw new IllegalArgumentException("unknown mode " + mode);
        }
    }

    /** One line: what the task did, in words. */
    public String describe() {
        switch (type) {
            case LOCK:
                return "task " + task + " acquired " + to + " (" + modeName(toMode) + ") while holding " + from + " (" + modeName(fromMode) + ")";
            case WAIT:
                return "task " + task + " waited on " + to + " (" + to.kind() + ") while holding " + from + " (" + modeName(fromMode) + ")";
            case SIGNAL:
                if (via != null) {
                    return "task " + task + " signalled " + from + " (" + from.kind() + ") completing " + via + ", which "
                            + (to.isEvent() ? "waited on " + to : "acquired " + to + " (" + modeName(toMode) + ")") + " while it owned it";
                }
                return "task " + task + " signalled " + from + " (" + from.kind() + ") after "
                        + (to.isEvent() ? "waiting on " + to : "acquiring " + to + " (" + modeName(toMode) + ")");
            default:
                throw new AssertionError(type);
        }
    }
}
