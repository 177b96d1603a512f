package dev.rescuer.sim;

import dev.rescuer.core.platform.Primitive;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * What a simulated run did: a 64-bit hash folded over every scheduling decision and event, and the
 * most recent events in a ring for the report around a hang. Two runs with the same seed have the same
 * hash; the determinism test compares exactly that.
 *
 * <p>Recording is a few multiplications and array stores: events are formatted only when a report asks.
 * The ring keeps the tasks' activity without timer firings, so that a hang detected after minutes of
 * virtual time (of periodic timers and nothing else) still shows how it began.
 */
public final class Trace {

    /** The kinds of event. */
    public enum Kind {
        /** A task was started ({@code a} = task id, detail = name). */
        START,
        /** A task exited ({@code a} = task id). */
        EXIT,
        /** The strategy picked a candidate ({@code a} = task id; the timer context's id for a timer). */
        DECISION,
        /** A task went to sleep ({@code a} = task id, detail = what it waits on). */
        PARK,
        /** A sleeping task was woken ({@code a} = task id). */
        WAKE,
        /** A sleep timed out ({@code a} = task id). */
        TIMEOUT,
        /** Virtual time jumped ({@code a} = the new time). */
        TIME,
        /** A timer callback ran (detail = timer name). */
        TIMER,
        /** A timer was armed ({@code a} = deadline, detail = timer name). */
        ARM,
        /** A fault was injected ({@code a} = task id, detail = what failed). */
        FAULT,
        /** The run stopped ({@code a} = stop kind, detail = reason). */
        STOP
    }

    private static final int RING = 512;

    private long hash = 0xcbf29ce484222325L;
    private long events;
    private final Ring activity = new Ring();
    private long timerContext = -1;

    /** The last {@link #RING} events of the tasks' activity. */
    private static final class Ring {
        long events;
        final byte[] kinds = new byte[RING];
        final long[] args = new long[RING];
        final long[] times = new long[RING];
        final long[] steps = new long[RING];
        final Object[] details = new Object[RING];

        void add(Kind kind, long a, Object detail, long time, long step) {
            int i = (int) (events++ % RING);
            kinds[i] = (byte) kind.ordinal();
            args[i] = a;
            times[i] = time;
            steps[i] = step;
            details[i] = detail;
        }
    }

    Trace() {
    }

    /** Names the timer context, whose firings and time jumps are left out of the activity ring. */
    void setTimerContext(long id) {
        this.timerContext = id;
    }

    void record(Kind kind, long a, Object detail, long time, long step) {
        long h = hash;
        h = mix(h ^ kind.ordinal());
        h = mix(h ^ a);
        h = mix(h ^ detailHash(detail));
        h = mix(h ^ time);
        hash = h;
        events++;
        boolean timerOnly = kind == Kind.TIME || kind == Kind.TIMER || kind == Kind.ARM
                || (kind == Kind.DECISION && a == timerContext);
        if (!timerOnly) {
            activity.add(kind, a, detail, time, step);
        }
    }

    private static long detailHash(Object detail) {
        if (detail == null) {
            return 0;
        }
        if (detail instanceof Primitive) {
            return ((Primitive) detail).name().hashCode();
        }
        return detail.toString().hashCode();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }

    /** The hash of every decision and event so far. */
    public long hash() {
        return hash;
    }

    /** How many events were recorded (and hashed), timer events included. */
    public long events() {
        return events;
    }

    /**
     * The tasks' last {@code n} events (at most 512), oldest first. Timer firings, timer arming and
     * time jumps are hashed but left out here, so that after a long hang (minutes of virtual time with
     * only periodic timers) the events that led into it are still there.
     *
     * @param taskName names a task id for the events
     */
    public List<TraceEvent> events(int n, LongFunction<String> taskName) {
        Ring r = activity;
        long count = Math.min(Math.min(n, RING), r.events);
        List<TraceEvent> out = new ArrayList<>((int) count);
        for (long e = r.events - count; e < r.events; e++) {
            int i = (int) (e % RING);
            Kind k = Kind.values()[r.kinds[i]];
            Object d = r.details[i];
            String task = k == Kind.STOP ? null : taskName.apply(r.args[i]);
            String detail = d == null ? null : k == Kind.PARK ? ((Primitive) d).describe() : d.toString();
            out.add(new TraceEvent(r.steps[i], r.times[i], k, task, detail));
        }
        return out;
    }

    /** {@link #events}, one line each: {@code step 1234 t=0.120000000s DECISION kworker/0:1:7}. */
    public List<String> tail(int n, LongFunction<String> taskName) {
        return events(n, taskName).stream().map(TraceEvent::text).toList();
    }
}
