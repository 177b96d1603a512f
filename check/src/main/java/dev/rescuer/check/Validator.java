package dev.rescuer.check;

import dev.rescuer.core.platform.AbstractPlatform;
import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Workqueues;
import dev.rescuer.core.wq.WqFlag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The validator: lockdep's dependency graph over core's {@link LockEvents}, extended with DEPT's
 * waits on events, learned exactly from the primitives' own reports.
 *
 * <p>What it records, per pair of classes (not instances), once, with the first task and stack:
 * <ul>
 *   <li><b>Lock order</b> ({@code check_prev_add}): acquiring class B while holding class A adds
 *       A → B, from every held class (not only the last, so that no transitivity through one task's
 *       own stack is needed), except for try-acquisitions, which cannot wait.
 *   <li><b>Waits</b>: waiting on an event E (a completion, a semaphore's {@code down}, a wait queue,
 *       a mempool, a flush) while holding A adds A → E.
 *   <li><b>Nested event waits</b>: a mempool allocation that may wait while its task holds an
 *       element of the same pool adds E → E, a possible recursive wait, unless every such wait held
 *       one exclusive lock in common (lockdep's {@code nest_lock}: dm-crypt's {@code bio_alloc_lock}).
 *   <li><b>Signals</b> (DEPT's event context): signalling E after acquiring or waiting on C in the
 *       same context (since the task's last {@linkplain LockEvents#contextBoundary boundary}: a work
 *       item's start, a timer callback's start, the task's start) adds E → C: a waiter of E waits,
 *       through the signaller, for C. After a {@linkplain LockEvents#requestEvent request} of E by
 *       the signalling task (DEPT's {@code dept_request_event}), only what it acquired or waited on
 *       since the request counts: no task could wait for E before it.
 *   <li><b>Waits for a work item</b> ({@code check_flush_dependency}'s view of a wait): waiting on
 *       E whose completer is known at the wait to be a work item (E's owner is a
 *       {@link HandedOnEvent} whose chain reaches a {@link Work}: a bio whose end-io was deferred to
 *       an item) adds what a {@code flush_work} of that item would: E → the item's class, E → its
 *       queue's where {@link WorkQueue#flushWaitsOnQueue()}, and E → {@code fs_reclaim} where
 *       {@link WorkQueue#itemsMayWaitForReclaim()} (the item may need a new worker first).
 *   <li><b>Signals by the named item</b>: signalling E from a work item that E's owner names, at
 *       the signal, as E's completer adds the same flush dependencies (E could not happen before
 *       that item ran), so a wait that began while E was still on a device sees them too.
 *   <li><b>Hand-offs</b> (DEPT's event context, per event instance): what a task acquires or waits
 *       on while it acts for a {@link HandedOnEvent} ({@linkplain LockEvents#takeOver takeOver} ..
 *       {@linkplain LockEvents#handOn handOn}: loop's worker serving a bio) is carried by the event,
 *       and a signal made while a later owner acts for it (the bio's end-io in the disk's interrupt)
 *       depends on those classes too. Only what was done inside a window counts: what the owner held
 *       or did before it took the event over is not charged.
 * </ul>
 * The graph is searched for cycles when asked ({@link #potentialCycles()}), normally once at the end
 * of a run: a cycle is reported only if every junction blocks, where a junction at class X joins an
 * edge that acquires X to one that leaves X held. It blocks unless neither side is exclusive and
 * either side is recursive, or both are shared and no task ever took X exclusively (a rw-semaphore's
 * read-after-read is a dependency only because a queued writer makes the second reader wait; see
 * {@link CycleFinder}).
 *
 * <p><b>Threading and memory ordering.</b> Each task's held stack and context live in its own
 * {@link Task#lockdepData()}, touched only by that task. The class and edge tables are concurrent
 * maps: a class or edge is published by {@code computeIfAbsent}/{@code putIfAbsent}, and
 * {@link #potentialCycles()} reads them after the run (on a real platform, after joining the tasks,
 * which orders their writes before the read). A class is also cached on each core primitive of it
 * ({@link AbstractPrimitive#classCache()}, volatile, tagged with this validator): any task may write
 * it on a miss, and two tasks missing at once both store the one class of that name, found through
 * {@code computeIfAbsent}; a reader that finds another validator's class ignores it. Each class's
 * {@link EdgeSet} holds the keys of edges already in the map, added only after the map's
 * {@code putIfAbsent}, so a hit there means the edge is recorded; a miss falls back to the map.
 * {@link LockClass#exclusiveSeen()} is volatile. An
 * event's context ({@link EventContext}, immutable) is replaced with {@code merge} on a concurrent
 * map, so two owners extending it at once (chained bios ending on two threads) lose nothing; the
 * hand-off that passes the event to its next owner (a queue, a timer) orders the write before the
 * next owner's {@code takeOver} reads it.
 */
public final class Validator implements LockEvents {

    private static final int MAX_STACK = 16;

    private final ConcurrentHashMap<String, LockClass> classes = new ConcurrentHashMap<>();
    private final AtomicInteger nextClassId = new AtomicInteger();
    private final ConcurrentHashMap<Long, Dependency> dependencies = new ConcurrentHashMap<>();
    private final Signallers signallers = new Signallers();
    /**
     * Per handed-on event instance (by identity), what its owners acquired and waited on while they
     * owned it; dropped when the event has happened. Replaced atomically ({@code merge}).
     */
    private final ConcurrentHashMap<EventKey, EventContext> eventContexts = new ConcurrentHashMap<>();
    /** Per event class waited on nested in itself, the exclusive classes held at every such wait. */
    private final ConcurrentHashMap<LockClass, Set<LockClass>> nestLocks = new ConcurrentHashMap<>();
    /** A validator watching nothing yet; {@link #attachTo} installs it. */
    public Validator() {
    }

    /** Creates a validator and installs it on {@code platform}; events from then on are recorded. */
    public static Validator attach(AbstractPlatform platform) {
        Validator v = new Validator();
        v.attachTo(platform);
        return v;
    }

    /** Installs this validator as {@code platform}'s listener, replacing any other. */
    public void attachTo(AbstractPlatform platform) {
        platform.setLockEvents(this);
    }

    /** Removes this validator from {@code platform} if it is the installed listener. */
    public void detachFrom(AbstractPlatform platform) {
        if (platform.lockEvents() == this) {
            platform.setLockEvents(null);
        }
    }

    static boolean isEventKind(String kind) {
        switch (kind) {
            case "completion":
            case "semaphore":
            case "waitqueue":
            case "mempool":
            case "exit of task":
                return true;
            default:
                return false;
        }
    }

    // ------------------------------------------------------------------ LockEvents

    @Override
    public void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock) {
        if (mode < EXCLUSIVE || mode > RECURSIVE) {
            throw new IllegalArgumentException("unknown lock mode " + mode + " acquiring " + lock.describe());
        }
        if (subclass < 0) {
            throw new IllegalArgumentException("negative subclass " + subclass + " acquiring " + lock.describe());
        }
        TaskLocks t = locksOf(task);
        LockClass c = classOf(lock, subclass);
        if (mode == EXCLUSIVE) {
            c.markExclusive();
        }
        if (!trylock) {
            for (int i = 0; i < t.heldCount; i++) {
                record(t.heldClass[i], c, t.heldMode[i], mode, Dependency.Type.LOCK, task);
            }
            t.remember(c, mode);
        }
        t.push(lock, c, mode);
    }

    @Override
    public void release(Task task, Primitive lock) {
        locksOf(task).pop(lock);
    }

    @Override
    public void waitOn(Task task, Primitive event) {
        TaskLocks t = locksOf(task);
        LockClass e = classOf(event, 0);
        for (int i = 0; i < t.heldCount; i++) {
            record(t.heldClass[i], e, t.heldMode[i], EXCLUSIVE, Dependency.Type.WAIT, task);
        }
        t.remember(e, EXCLUSIVE);
        Work item = completingItem(event);
        if (item != null) { // the dependencies of a wait for the item to run, as __flush_work records them
            waitsForFlushOf(e, item, Dependency.Type.WAIT, task, null);
        }
    }

    /**
     * Records {@code e} → every class of {@link #flushContext}{@code (item)} as {@code type}:
     * {@code e} waits for what a flush of {@code item} waits for. {@code named}, when non-null, says
     * how the item was learned ({@link Dependency#via()}, with each entry's owner).
     */
    private void waitsForFlushOf(LockClass e, Work item, Dependency.Type type, Task task, String named) {
        EventContext flush = flushContext(item);
        for (int i = 0; i < flush.size(); i++) {
            if (flush.classAt(i) != e) {
                record(e, flush.classAt(i), EXCLUSIVE, EXCLUSIVE, type, task,
                        named == null ? null : EventContext.via(named, flush.ownerAt(i)));
            }
        }
    }

    /**
     * What waiting for {@code item} to run waits for, as {@code __flush_work} and
     * {@code start_flush_work} record it: the item's class; its queue's where a flush of the item
     * waits on the queue ({@link WorkQueue#flushWaitsOnQueue()}); {@code fs_reclaim} where the item
     * may first need a worker whose creation may reclaim ({@link WorkQueue#itemsMayWaitForReclaim()}).
     */
    private EventContext flushContext(Work item) {
        String who = "work " + item.name();
        EventContext out = EventContext.EMPTY.plus(classOf(item, 0), EXCLUSIVE, who);
        WorkQueue wq = item.workqueue();
        if (wq == null) {
            return out;
        }
        who = who + " on workqueue " + wq.name();
        if (wq.flushWaitsOnQueue()) {
            out = out.plus(classOf(wq, 0), EXCLUSIVE, who);
        }
        if (!wq.flags().contains(WqFlag.BH) && wq.itemsMayWaitForReclaim()) {
            out = out.plus(classOf(FS_RECLAIM, 0), EXCLUSIVE, who);
        }
        return out;
    }

    /**
     * The work item that completes {@code event} as its owner's chain stands at the wait
     * ({@link HandedOnEvent#completer()}, followed through events that wait for others), or
     * {@code null} if the chain ends at a task, a device, or nothing.
     */
    static Work completingItem(Primitive event) {
        Object o = event instanceof Completion ? ((Completion) event).owner()
                : event instanceof WaitQueue ? ((WaitQueue) event).owner() : null;
        for (int hops = 0; hops < 8 && o instanceof HandedOnEvent; hops++) {
            o = ((HandedOnEvent) o).completer();
        }
        return o instanceof Work ? (Work) o : null;
    }

    @Override
    public void signal(Task task, Primitive event) {
        TaskLocks t = locksOf(task);
        Work running = Workqueues.runningItem(task);
        if (t.lastSignalled != event || t.lastSignalledAs != running) { // a repeat would log nothing new
            signallers.log(task, event, running);
            t.lastSignalled = event;
            t.lastSignalledAs = running;
        } else {
            t.signalLogsSkipped++;
        }
        LockClass e = classOf(event, 0);
        long after = t.takeRequest(event); // with a request, only what came after it
        if (after >= 0 || t.signalledWithThisContext != e) { // else every edge below is recorded already
            for (int i = 0; i < t.contextCount; i++) {
                if (t.contextClass[i] != e && t.contextSeq[i] > after) {
                    record(e, t.contextClass[i], EXCLUSIVE, t.contextMode[i], Dependency.Type.SIGNAL, task);
                }
            }
            if (after < 0) {
                t.signalledWithThisContext = e;
            }
        } else {
            t.signalContextsSkipped++;
        }
        for (int i = 0; i < t.heldCount; i++) { // held since before the context began
            if (t.heldClass[i] != e && t.heldSeq[i] > after) {
                record(e, t.heldClass[i], EXCLUSIVE, t.heldMode[i], Dependency.Type.SIGNAL, task);
            }
        }
        Work item = completingItem(event);
        if (item != null && t.holds(item)) {
            signalledByItem(event, e, item, task);
        }
        for (int w = 0; w < t.ownedCount; w++) { // what the events it acts for carried here
            EventContext carried = t.ownedContext[w];
            for (int i = 0; i < carried.size(); i++) {
                if (carried.classAt(i) != e) {
                    record(e, carried.classAt(i), EXCLUSIVE, carried.modeAt(i), Dependency.Type.SIGNAL, task,
                            t.owned[w], carried.ownerAt(i));
                }
            }
        }
    }

    /**
     * The dependencies of {@code e} on the item that signals it, when the event's owner named that
     * very item as its completer at the signal: {@code e} could not have happened before the item
     * ran, so a waiter of {@code e} waited for what a flush of the item waits for
     * ({@link #flushContext}), whenever it started waiting (while the I/O was still on the device).
     * A signal from an item the owner did not name adds nothing here: a class-level signaller need
     * not be the one a waiter waits for.
     */
    private void signalledByItem(Primitive event, LockClass e, Work item, Task task) {
        waitsForFlushOf(e, item, Dependency.Type.SIGNAL, task,
                event.describe() + " (its owner names the item as its completer)");
    }

    @Override
    public void takeOver(Task task, HandedOnEvent event) {
        EventContext carried = eventContexts.get(new EventKey(event));
        locksOf(task).openWindow(event, carried == null ? EventContext.EMPTY : carried);
    }

    @Override
    public void handOn(Task task, HandedOnEvent event, HandedOnEvent into) {
        TaskLocks t = locksOf(task);
        int w = t.window(event);
        if (w >= 0) {
            carry(event, t.closeWindow(w, task.name()));
        }
        if (event.completer() instanceof Work) { // deferred to an item: it completes only once the item runs
            carry(event, flushContext((Work) event.completer()));
        }
        if (into != null) {
            EventContext moved = eventContexts.remove(new EventKey(event));
            if (moved != null) {
                eventContexts.merge(new EventKey(into), moved, EventContext::plusAll);
            }
        } else if (w >= 0 && event.completer() == null) {
            eventContexts.remove(new EventKey(event)); // it has happened: nobody can wait for it now
        }
    }

    /** Adds what an owner did in a closed window to {@code event}'s context, unless the window did nothing. */
    private void carry(HandedOnEvent event, EventContext did) {
        if (did.size() > 0) {
            eventContexts.merge(new EventKey(event), did, EventContext::plusAll);
        }
    }

    @Override
    public void waitOnNested(Task task, Primitive event) {
        TaskLocks t = locksOf(task);
        LockClass e = classOf(event, 0);
        Set<LockClass> serialisedBy = new HashSet<>();
        for (int i = 0; i < t.heldCount; i++) {
            if (t.heldMode[i] == EXCLUSIVE) {
                serialisedBy.add(t.heldClass[i]);
            }
        }
        // The classes every nested wait of this class held: a lock common to all serialises them.
        nestLocks.merge(e, Set.copyOf(serialisedBy), (a, b) -> {
            Set<LockClass> common = new HashSet<>(a);
            common.retainAll(b);
            return Set.copyOf(common);
        });
        record(e, e, EXCLUSIVE, EXCLUSIVE, Dependency.Type.WAIT, task);
    }

    @Override
    public void requestEvent(Task task, Primitive event) {
        locksOf(task).request(event);
    }

    @Override
    public void contextBoundary(Task task) {
        TaskLocks t = locksOf(task);
        while (t.ownedCount > 0) { // a window still open ends with its context, as a hand-on would
            int w = t.ownedCount - 1;
            HandedOnEvent event = t.owned[w];
            carry(event, t.closeWindow(w, task.name()));
        }
        t.clearContext();
    }

    // ------------------------------------------------------------------ results

    /** Who signalled each event so far, per instance and per class (the wait-for graph's learned releasers). */
    public Signallers signallers() {
        return signallers;
    }

    /**
     * Signals by {@code task} that skipped the signal log as repeats of its last one (a debug stat of
     * the shortcut; only tests read it). Read it after the task has stopped signalling (joined).
     */
    long repeatedSignalLogsSkipped(Task task) {
        TaskLocks t = existingLocksOf(task);
        return t == null ? 0 : t.signalLogsSkipped;
    }

    /**
     * Signals by {@code task} that skipped their context's edges as recorded by its last signal of the
     * class (a debug stat, as {@link #repeatedSignalLogsSkipped}).
     */
    long repeatedSignalContextsSkipped(Task task) {
        TaskLocks t = existingLocksOf(task);
        return t == null ? 0 : t.signalContextsSkipped;
    }

    /** Every class seen, in order of first appearance. A snapshot. */
    public List<LockClass> classes() {
        List<LockClass> out = new ArrayList<>(classes.values());
        out.sort(Comparator.comparingInt(LockClass::id));
        return out;
    }

    /** Every dependency recorded, ordered by their classes. A snapshot. */
    public List<Dependency> dependencies() {
        List<Dependency> out = new ArrayList<>(dependencies.values());
        out.sort(Comparator.comparingInt((Dependency d) -> d.from().id()).thenComparingInt(d -> d.to().id())
                .thenComparingInt(Dependency::fromMode).thenComparingInt(Dependency::toMode));
        return out;
    }

    /**
     * Searches the graph for cycles whose every junction blocks (see the class comment) and returns
     * them, shortest first. Call when the tasks being watched are quiescent, typically at the end of
     * a run; it may be called again as the run goes on.
     */
    public List<PotentialCycle> potentialCycles() {
        List<Dependency> deps = dependencies();
        deps.removeIf(d -> d.from() == d.to() && !nestLocks.getOrDefault(d.from(), Set.of()).isEmpty());
        return new CycleFinder(classes(), deps).find();
    }

    /** Every potential cycle in lockdep's report shape, separated by blank lines; empty if none. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        for (PotentialCycle c : potentialCycles()) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(c.format());
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ internals

    /** The task's state as this validator keeps it, or {@code null} if it has none. */
    private TaskLocks existingLocksOf(Task task) {
        Object d = task.lockdepData();
        return d instanceof TaskLocks && ((TaskLocks) d).owner == this ? (TaskLocks) d : null;
    }

    private TaskLocks locksOf(Task task) {
        TaskLocks existing = existingLocksOf(task);
        if (existing != null) {
            return existing;
        }
        TaskLocks t = new TaskLocks(this);
        task.setLockdepData(t);
        return t;
    }

    /**
     * The class of {@code p} at {@code subclass}: one per class name and subclass, whatever the
     * instance. Core's primitives cache their subclass-0 class ({@link AbstractPrimitive#classCache()},
     * lockdep's {@code class_cache}), so the common lookup is a field read and a tag check; a class
     * cached by another validator is looked up again and replaced. Every other lookup goes by name.
     */
    private LockClass classOf(Primitive p, int subclass) {
        if (subclass == 0 && p instanceof AbstractPrimitive) {
            AbstractPrimitive a = (AbstractPrimitive) p;
            Object cached = a.classCache();
            if (cached instanceof LockClass && ((LockClass) cached).validator == this) {
                return (LockClass) cached;
            }
            LockClass c = classByName(p, 0);
            a.setClassCache(c); // a racing miss stores the same class: there is one per name
            return c;
        }
        return classByName(p, subclass);
    }

    /** The class of {@code p} at {@code subclass}, found (or created) by its name. */
    private LockClass classByName(Primitive p, int subclass) {
        String name = p.lockClass();
        String key = subclass == 0 ? name : name + '\u0000' + subclass;
        LockClass c = classes.get(key);
        if (c != null) {
            return c;
        }
        return classes.computeIfAbsent(key, k -> new LockClass(this, nextClassId.getAndIncrement(), name, subclass, p.kind()));
    }

    private void record(LockClass from, LockClass to, int fromMode, int toMode, Dependency.Type type, Task task) {
        record(from, to, fromMode, toMode, type, task, null, null);
    }

    /** Records an edge; {@code via}/{@code owner}, when non-null, name the handed-on event it was learned through. */
    private void record(LockClass from, LockClass to, int fromMode, int toMode, Dependency.Type type, Task task,
                        HandedOnEvent via, String owner) {
        record(from, to, fromMode, toMode, type, task, via == null ? null : EventContext.via(via, owner));
    }

    /** Records an edge; {@code through}, when non-null, says how it was learned ({@link Dependency#via()}). */
    private void record(LockClass from, LockClass to, int fromMode, int toMode, Dependency.Type type, Task task,
                        String through) {
        long edge = ((long) to.id() << 8) | (fromMode << 4) | (toMode << 2) | type.ordinal();
        if (from.recorded.contains(edge)) { // nearly always: an edge is new only the first time
            return;
        }
        long key = ((long) from.id() << 36) | edge;
        if (!dependencies.containsKey(key)) {
            dependencies.putIfAbsent(key, new Dependency(from, to, fromMode, toMode, type, task.name(), through, callerStack()));
        }
        from.recorded.add(edge); // after the map has it: a hit in the filter means the edge is recorded
    }

    /** A handed-on event as a map key, by identity whatever its {@code equals} (records compare by value). */
    private record EventKey(HandedOnEvent event) {
        @Override
        public boolean equals(Object o) {
            return o instanceof EventKey && ((EventKey) o).event == event;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(event);
        }
    }

    private static List<StackTraceElement> callerStack() {
        StackTraceElement[] st = new Throwable().getStackTrace();
        int i = 0;
        while (i < st.length && st[i].getClassName().equals(Validator.class.getName())) {
            i++;
        }
        return List.of(Arrays.copyOfRange(st, i, Math.min(st.length, i + MAX_STACK)));
    }
}
