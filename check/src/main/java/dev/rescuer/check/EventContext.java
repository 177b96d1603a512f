package dev.rescuer.check;

import dev.rescuer.core.platform.HandedOnEvent;

import java.util.Arrays;

/**
 * What a handed-on event's completion waited for on its way (DEPT's "event context", kept per event
 * instance and exactly): the classes its owners acquired or waited on while they owned it, between
 * a {@link dev.rescuer.core.platform.LockEvents#takeOver takeOver} and the matching
 * {@link dev.rescuer.core.platform.LockEvents#handOn handOn}, each with the owner that did it. A
 * signal made while a task acts for the event (a bio's end-io in the disk's interrupt) depends on
 * these classes as on its own context.
 *
 * <p>Immutable: {@link #plus} returns a new context, so that a context read by one task while
 * another extends it (two chained bios ending at once on real threads) is never torn; the
 * validator keeps the current one per event in a concurrent map and replaces it atomically. At
 * most {@link TaskLocks#CONTEXT_LIMIT} entries; the oldest go first.
 */
final class EventContext {

    static final EventContext EMPTY = new EventContext(new LockClass[0], new int[0], new String[0]);

    private final LockClass[] classes;
    private final int[] modes;
    private final String[] owners;

    private EventContext(LockClass[] classes, int[] modes, String[] owners) {
        this.classes = classes;
        this.modes = modes;
        this.owners = owners;
    }

    int size() {
        return classes.length;
    }

    LockClass classAt(int i) {
        return classes[i];
    }

    int modeAt(int i) {
        return modes[i];
    }

    /** The task that acquired or waited on entry {@code i} while it owned the event. */
    String ownerAt(int i) {
        return owners[i];
    }

    /** This context with {@code c} in {@code mode} by {@code owner} added, or this if it has them already. */
    EventContext plus(LockClass c, int mode, String owner) {
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] == c && modes[i] == mode) {
                return this;
            }
        }
        int keep = Math.min(classes.length, TaskLocks.CONTEXT_LIMIT - 1);
        int from = classes.length - keep;
        LockClass[] cs = Arrays.copyOfRange(classes, from, from + keep + 1);
        int[] ms = Arrays.copyOfRange(modes, from, from + keep + 1);
        String[] os = Arrays.copyOfRange(owners, from, from + keep + 1);
        cs[keep] = c;
        ms[keep] = mode;
        os[keep] = owner;
        return new EventContext(cs, ms, os);
    }

    /** This context with every entry of {@code other} added. */
    EventContext plusAll(EventContext other) {
        EventContext out = this;
        for (int i = 0; i < other.size(); i++) {
            out = out.plus(other.classes[i], other.modes[i], other.owners[i]);
        }
        return out;
    }

    /** How a dependency learned through {@code event}'s context reads in a report. */
    static String via(Object event, String owner) {
        return event + " for its owner " + owner;
    }
}
