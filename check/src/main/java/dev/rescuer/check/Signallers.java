package dev.rescuer.check;

import dev.rescuer.core.platform.AbstractPlatform;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.Workqueues;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The signal log: who signalled each event ({@code complete}, {@code up}, {@code wake_up},
 * {@code mempool_free}), recorded by the primitive at the moment of the signal, per instance and per
 * class. The explorer's wait-for graph reads it to learn who releases a wait that no scenario
 * declared (see {@code docs/VALIDATOR.md}, "Learned releasers").
 *
 * <p>A {@link Signaller} is the signalling task and, when the task was a worker or rescuer running
 * an item, that item's name and class: the releaser is then "whoever runs an item of that class", not
 * the worker thread, which may run anything next. Each event instance and each class keeps its first
 * {@value #MAX_PER_EVENT} distinct signallers, in the order they first signalled; later ones are not
 * recorded (the first are the ones that tell who releases it).
 *
 * <p>It is a {@link LockEvents} listener of its own (which records signals and ignores the rest), for
 * runs that want the log without the validator's graph; a {@link Validator} keeps one and feeds it.
 *
 * <p><b>Threading and memory ordering.</b> Both tables are concurrent maps whose values are immutable
 * lists replaced by {@code compute}, so a reader sees either the old list or the new one whole; on a
 * real platform read them after the signalling tasks are quiescent (a report is built from a frozen
 * world). Keys are the primitive instances themselves (their own {@code equals}, identity for every
 * primitive core has).
 */
public final class Signallers implements LockEvents {

    /** How many distinct signallers an event instance or class keeps. */
    public static final int MAX_PER_EVENT = 8;

    /**
     * One signaller of an event.
     *
     * @param task the task that signalled
     * @param workName the item it was running as a worker or rescuer, or {@code null}
     * @param workClass that item's class ({@link Work#lockClass()}), or {@code null}
     */
    public record Signaller(Task task, String workName, String workClass) {
    }

    private final ConcurrentHashMap<Primitive, List<Signaller>> byInstance = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, List<Signaller>> byClass = new ConcurrentHashMap<>();

    /** An empty log; {@link #attachTo} installs it as a platform's listener. */
    public Signallers() {
    }

    /** Installs this log as {@code platform}'s listener, replacing any other. */
    public void attachTo(AbstractPlatform platform) {
        platform.setLockEvents(this);
    }

    /** The distinct signallers of {@code event} itself, first first; empty if it was never signalled. */
    public List<Signaller> of(Primitive event) {
        return byInstance.getOrDefault(event, List.of());
    }

    /** The distinct signallers of any event of class {@code lockClass}, first first. */
    public List<Signaller> ofClass(String lockClass) {
        return byClass.getOrDefault(lockClass, List.of());
    }

    @Override
    public void signal(Task task, Primitive event) {
        log(task, event, Workqueues.runningItem(task));
    }

    /**
     * Logs {@code task}, running {@code item} ({@code null} if none), as a signaller of {@code event}
     * and of its class. On return the log holds that signaller for both, or has no room left for it:
     * either way a repeat of the same call would change nothing, now or later (lists only grow).
     */
    void log(Task task, Primitive event, Work item) {
        String workName = item == null ? null : item.name();
        String workClass = item == null ? null : item.lockClass();
        // Most signals repeat a signaller already logged: look, without building one, before
        // taking the map's bin lock.
        String eventClass = event.lockClass();
        boolean toInstance = adds(byInstance.get(event), task, workName, workClass);
        boolean toClass = adds(byClass.get(eventClass), task, workName, workClass);
        if (!toInstance && !toClass) {
            return;
        }
        Signaller s = new Signaller(task, workName, workClass); // one record for both tables
        if (toInstance) {
            byInstance.compute(event, (k, old) -> with(old, s));
        }
        if (toClass) {
            byClass.compute(eventClass, (k, old) -> with(old, s));
        }
    }

    /**
     * Whether {@link #with} would add a signaller of these fields to {@code list}; a racing writer is
     * caught by {@code compute}.
     */
    private static boolean adds(List<Signaller> list, Task task, String workName, String workClass) {
        if (list == null) {
            return true;
        }
        int n = list.size();
        for (int i = 0; i < n; i++) {
            Signaller s = list.get(i);
            if (s.task().equals(task) && Objects.equals(s.workName(), workName) && Objects.equals(s.workClass(), workClass)) {
                return false;
            }
        }
        return n < MAX_PER_EVENT;
    }

    /**
     * {@code old} with {@code s} appended, unless it is there (same task, item and item class) or the
     * list is full: {@link #adds} decides.
     */
    private static List<Signaller> with(List<Signaller> old, Signaller s) {
        if (!adds(old, s.task(), s.workName(), s.workClass())) {
            return old;
        }
        if (old == null) {
            return List.of(s);
        }
        List<Signaller> out = new ArrayList<>(old.size() + 1);
        out.addAll(old);
        out.add(s);
        return List.copyOf(out);
    }

    @Override
    public void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock) {
    }

    @Override
    public void release(Task task, Primitive lock) {
    }

    @Override
    public void waitOn(Task task, Primitive event) {
    }

    @Override
    public void contextBoundary(Task task) {
    }
}
