package dev.rescuer.sim;

import dev.rescuer.core.platform.AbstractPlatform;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.platform.ThreadStartCost;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.sim.strategy.Choice;
import dev.rescuer.sim.strategy.Strategy;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A {@link Platform} that runs core's unchanged code one task at a time, under a scheduler that a
 * {@link Strategy} drives, on virtual time.
 *
 * <p><b>Tasks and the baton.</b> Every task the simulation starts runs on a JVM thread (a
 * {@linkplain CarrierPool carrier}, reused across runs), but only the task holding the baton runs; the
 * others are parked inside a platform call. The baton moves only at a <em>scheduling point</em>:
 * {@link #preemptionPoint()}, {@link #cpuRelax()}, a sleep in {@link #await}, {@link #startThread} and a
 * task's exit. There the strategy picks the next task among the runnable ones, in task-id order, and
 * the current thread hands the baton over and parks. Because core never reaches a scheduling point
 * while holding a raw spin lock, and never switches away from atomic context, no JVM-level lock is
 * ever contended and every interleaving the strategy produces is one the real code could take.
 *
 * <p><b>Virtual time.</b> Running costs virtual CPU time: every segment a task runs between two
 * scheduling points (from getting the baton to its next scheduling point, sleep or exit) advances the
 * clock by {@link #STEP_NANOS}, a fixed cost, so a replay sees the same clock. Timer callbacks are not
 * charged (interrupt time is not accounted). When no task can run, the clock jumps to the next event:
 * a timer's deadline or a sleeping task's timeout; it does the same when every task that can run is
 * spinning in {@link #cpuRelax()}, each has looked at the world since it last changed, and no timer
 * is due, as CPUs spin until the next interrupt. Timer
 * callbacks run at scheduling points, as one more candidate the strategy may pick ("the timer
 * context"), on the thread that holds the baton but under the timer context's own task record, in
 * atomic context, as the kernel runs softirqs on top of whatever was running.
 *
 * <p><b>Spinners.</b> A task at {@link #cpuRelax()} waits for another to make progress, so it is a
 * candidate only when no task that is not spinning, and no due timer, can run: a strategy that
 * favours it (PCT's highest priority) cannot starve what it spins on. The world changes for a spinner
 * when a timer callback runs or a task runs a segment that does not end at {@code cpuRelax}; a segment
 * from one {@code cpuRelax} to the next is taken to change nothing others wait for (the contract of
 * {@code cpu_relax()}: the caller waits). Spinners that have not looked since the last change run
 * before the clock jumps.
 *
 * <p><b>Determinism.</b> Nothing here reads the wall clock or depends on thread timing: the strategy's
 * choices, the fault injector's draws (from its own stream of the run's seed) and the order of
 * candidates decide everything, so one seed gives one run. Every decision and event is folded into
 * the {@linkplain Trace trace}'s hash.
 *
 * <p><b>End of a run.</b> A run {@linkplain #run starts} in a controller thread that is not a task. It
 * ends when something {@linkplain #stop stops} it (the scenario is done, a hang was detected, a
 * task failed) or no task can ever run again. The controller then tears every live task down: each
 * is resumed once more and gets a {@link TaskAbortedError}, which unwinds its stack.
 */
public final class SimPlatform extends AbstractPlatform {

    /**
     * The virtual CPU time, in nanoseconds, that one segment of a task's run costs: from the moment it
     * gets the baton to its next scheduling point, sleep or exit. One microsecond, about what a
     * stretch of kernel code between two scheduling points takes. Fixed, so that a seed replays.
     */
    public static final long STEP_NANOS = 1_000;

    /** Why a run stopped, and the details the explorer reports. */
    public record Stop(StopKind kind, String reason) { }

    /**
     * What the scheduler knows of a task beyond its record, for reports on a stopped run.
     *
     * @param asleep parked in a sleep, not yet woken or timed out
     * @param timedOut its sleep's deadline passed and it has not yet run to re-check its condition
     * @param deadline when its current or last sleep times out, or {@link Platform#NO_DEADLINE}
     * @param spinning at {@code cpuRelax}, waiting for another task's progress
     * @param repeatedOn what its last sleeps, one after another, were on, or {@code null} if it never slept
     * @param repeatedSinceNanos when the first of those sleeps began
     * @param repeats how many sleeps in a row on {@code repeatedOn} (a timed retry loop counts each round)
     */
    public record TaskView(boolean asleep, boolean timedOut, long deadline, boolean spinning, Primitive repeatedOn,
                           long repeatedSinceNanos, int repeats) {

        /** Whether the current or last sleep has a deadline. */
        public boolean timed() {
            return deadline != NO_DEADLINE;
        }
    }

    /** The kinds of stop. */
    public enum StopKind {
        /** The scenario declared itself done. */
        DONE("done"),
        /** No task can run and no timer or timeout is pending. */
        DEADLOCK("deadlock"),
        /** The hung-task detector reported a task (on virtual time). */
        HUNG_TASK("hung task"),
        /** Too many scheduling steps without progress. */
        LIVELOCK("livelock"),
        /** A task's body threw, or an invariant broke. */
        FAILURE("failure");

        private final String label;

        StopKind(String label) {
            this.label = label;
        }

        /** The kind as reports name it: {@code "hung task"}, {@code "deadlock"}, ... */
        public String label() {
            return label;
        }
    }

    private final Strategy strategy;
    private final SimFaults faults;
    private final SplittableRandom workload;
    private final CarrierPool carriers;
    private final long livelockBound;
    private final Trace trace;
    private final Choice choice = new Choice();

    // Scheduler state. It is touched only by the thread holding the baton (or by the controller while
    // no task runs); each hand-over writes a volatile flag that the receiver reads, which orders it.
    private final List<SimTask> live = new ArrayList<>(); // not exited, in id order
    private final PriorityQueue<SimTimer.Arming> timers = new PriorityQueue<>();
    private long armingSeq;
    private long now;
    private long steps;
    private long choices;
    private long stepsSinceProgress;
    /** Counts changes spinners may wait for: timer callbacks and segments that did not end spinning. */
    private long epoch;
    private SimTask running;
    private Task override; // the timer context or the inspector while they run on someone's thread
    private Thread overrideThread; // the thread running as the override
    private Stop stop;
    private boolean aborting;
    private boolean started;
    private final Task timerContext;
    private final Task inspector;
    private final Gate controller = new Gate();
    private Runnable afterStop;
    private final Map<Long, String> names = new HashMap<>();

    /**
     * Creates a simulation.
     *
     * @param seed the run's seed; the fault injector draws from a stream split off it
     * @param strategy picks who runs at each scheduling point
     * @param carriers the JVM threads tasks run on
     * @param livelockBound scheduling steps without {@linkplain #progress() progress} after which the
     *     run stops as a livelock
     */
    public SimPlatform(long seed, Strategy strategy, CarrierPool carriers, long livelockBound) {
        if (livelockBound < 1) {
            throw new IllegalArgumentException("livelock bound must be positive, got " + livelockBound);
        }
        this.strategy = strategy;
        this.carriers = carriers;
        this.livelockBound = livelockBound;
        SplittableRandom root = new SplittableRandom(seed);
        this.faults = new SimFaults(root.split());
        this.workload = root.split();
        this.trace = new Trace();
        this.timerContext = newTask("timer/sim", false);
        names.put(timerContext.id(), timerContext.toString());
        trace.setTimerContext(timerContext.id());
        timerContext.enterAtomic(); // timer callbacks run in softirq
        strategy.taskCreated(timerContext.id());
        this.inspector = newTask("sim/inspector", false);
        inspector.enterAtomic();
        forget(inspector); // reads the frozen world for reports; never listed as a task
    }

    /** The fault injection of this run; configure it before the faults should apply. */
    public SimFaults faults() {
        return faults;
    }

    /**
     * A random stream of this run's seed for the workload's own draws (which operations a scenario's
     * tasks perform), apart from the strategy's and the fault injector's, so that a seed replays the
     * workload too. Draw only from the running task.
     */
    public SplittableRandom workloadRandom() {
        return workload;
    }

    /** The trace: hash of every decision and event, and the most recent ones. */
    public Trace trace() {
        return trace;
    }

    /** The name of task {@code id} ({@code name:id}), live or exited, for traces. */
    public String taskName(long id) {
        return names.getOrDefault(id, "task " + id);
    }

    /**
     * Scheduling steps taken so far: every time the scheduler picked what runs next (a task, or the
     * timer context for a due timer), including when there was only one candidate.
     */
    public long steps() {
        return steps;
    }

    /** Of the {@linkplain #steps() steps}, those with two or more candidates, where the strategy chose. */
    public long choices() {
        return choices;
    }

    /**
     * What the scheduler knows of {@code task}: whether it sleeps, until when, whether it spins, and
     * its sleeps in a row on one primitive. For reports; the timer context and tasks of other
     * platforms have an empty view.
     */
    public TaskView view(Task task) {
        Object data = platformData(task);
        if (!(data instanceof SimTask)) {
            return new TaskView(false, false, NO_DEADLINE, false, null, 0, 0);
        }
        SimTask t = (SimTask) data;
        return new TaskView(t.parked, t.timedOut, t.deadline, t.spinning, t.repeatedOn, t.repeatedSince, t.repeats);
    }

    /** The task record of the timer context. */
    public Task timerContext() {
        return timerContext;
    }

    /** The reason the run stopped, or {@code null} while it runs. */
    public Stop stopped() {
        return stop;
    }

    // ------------------------------------------------------------------ running a simulation

    /**
     * Runs a simulation: starts a task named {@code name} with {@code body}, schedules until the run
     * stops, then tears down every task still alive. Called once, from a thread that is not a task.
     *
     * @return why the run stopped
     */
    public Stop run(String name, Runnable body) {
        if (started) {
            throw new IllegalStateException("a SimPlatform runs once");
        }
        started = true;
        controller.bind(Thread.currentThread());
        SimTask first = spawn(name, body, () -> { });
        trace.record(Trace.Kind.START, first.task.id(), name, now, steps);
        SimTask next = pick(null, false);
        if (next != null) {
            running = next;
            next.carrier.grant();
            controller.await();
        }
        tearDown();
        return stop;
    }

    /**
     * Stops the run at the next scheduling point. The first stop wins; later ones are ignored. May be
     * called from any task or timer callback of this simulation.
     */
    public void stop(StopKind kind, String reason) {
        if (stop == null) {
            stop = new Stop(kind, reason);
            trace.record(Trace.Kind.STOP, kind.ordinal(), reason, now, steps);
        }
    }

    /** Records progress: resets the livelock bound's count of steps without progress. */
    public void progress() {
        stepsSinceProgress = 0;
    }

    /**
     * Runs {@code inspection} on the controller's thread against the frozen world of a stopped run,
     * before tear-down, under an atomic inspector task record (so that it may read task records, take
     * raw locks and dump workqueues, but never sleep).
     */
    public <T> T inspect(java.util.function.Supplier<T> inspection) {
        if (running != null && stop == null) {
            throw new IllegalStateException("inspect only a stopped simulation");
        }
        Task saved = enterOverride(inspector);
        try {
            return inspection.get();
        } finally {
            exitOverride(saved);
        }
    }

    /**
     * Registers what the controller runs, under {@link #inspect}, once the run has stopped and before
     * its tasks are torn down: the explorer builds its hang report there.
     */
    public void onStopped(Runnable action) {
        this.afterStop = action;
    }

    private void tearDown() {
        if (afterStop != null) {
            inspect(() -> {
                afterStop.run();
                return null;
            });
        }
        aborting = true;
        for (SimTask t : new ArrayList<>(live)) {
            if (!t.exited) {
                running = t;
                t.carrier.grant();
                controller.await();
            }
        }
        running = null;
        live.clear();
        timers.clear();
    }

    // ------------------------------------------------------------------ Platform

    @Override
    public Task currentTask() {
        Task o = override;
        if (o != null && overrideThread == Thread.currentThread()) {
            return o;
        }
        return self().task;
    }

    /** Runs the following code as {@code as} on this thread; returns what to restore. */
    private Task enterOverride(Task as) {
        Task saved = override;
        override = as;
        overrideThread = Thread.currentThread();
        return saved;
    }

    private void exitOverride(Task saved) {
        override = saved;
        if (saved == null) {
            overrideThread = null;
        }
    }

    /** Throws unless the caller is the running task, or the timer context or inspector on its thread. */
    void checkCaller() {
        if (override == null || overrideThread != Thread.currentThread()) {
            self();
        }
    }

    private SimTask self() {
        SimTask r = running;
        if (r == null || r.carrier.thread() != Thread.currentThread()) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName()
                    + " is not the running task of this simulation: code under SimPlatform must run in tasks it started");
        }
        return r;
    }

    @Override
    public Task startThread(String name, Runnable body) {
        if (body == null) {
            throw new NullPointerException("body");
        }
        SimTask parent = self();
        if (aborting) {
            throw new TaskAbortedError(parent.task);
        }
        String injected = faults.threadStartFault(body);
        if (injected != null) {
            trace.record(Trace.Kind.FAULT, parent.task.id(), name, now, steps);
            throw new ThreadStartException("cannot start thread " + name + ": " + injected);
        }
        ThreadStartCost.Refund refund = threadStartCost().charge(name);
        SimTask child;
        try {
            child = spawn(name, body, refund);
        } catch (RuntimeException e) {
            refund.refund();
            throw e;
        }
        trace.record(Trace.Kind.START, child.task.id(), name, now, steps);
        preemptionPoint(); // the new task may run first
        return child.task;
    }

    private SimTask spawn(String name, Runnable body, ThreadStartCost.Refund refund) {
        Task task = newTask(name, false);
        SimTask st = new SimTask(task, body, refund);
        names.put(task.id(), task.toString());
        setPlatformData(task, st);
        st.carrier = carriers.take(this, st);
        live.add(st); // ids only grow, so the list stays in id order
        strategy.taskCreated(task.id());
        return st;
    }

    /** Runs a task's body on its carrier once it first gets the baton; called by the carrier. */
    void runOnCarrier(SimTask st) {
        Throwable escaped = null;
        try {
            if (aborting) {
                forget(st.task); // never ran: nothing to unwind
            } else {
                st.started = true;
                runTask(st.task, st.body, st.refund);
            }
        } catch (Throwable t) { // from the exit processing (the refund) rather than the body
            escaped = t;
        }
        if (escaped != null && !aborting) {
            LOG.log(Level.ERROR, "the exit of task " + st.task + " failed", escaped);
        }
        st.exited = true;
        live.remove(st);
        trace.record(Trace.Kind.EXIT, st.task.id(), null, now, steps);
        if (aborting) {
            running = null;
            controller.grant();
            return;
        }
        if (st.task.failure() != null && !(st.task.failure() instanceof TaskAbortedError)) {
            stop(StopKind.FAILURE, "task " + st.task + " died: " + st.task.failure());
        } else if (escaped != null) {
            stop(StopKind.FAILURE, "the exit of task " + st.task + " failed: " + escaped);
        }
        SimTask next;
        try {
            next = pick(st, false);
        } catch (RuntimeException | Error e) { // a strategy or timer bug: end the run rather than lose the baton
            stop(StopKind.FAILURE, "scheduler failed after the exit of " + st.task + ": " + e);
            next = null;
        }
        handOff(next);
    }

    @Override
    protected boolean park(Task task, long deadlineNanos) {
        SimTask me = self();
        if (aborting) {
            throw new TaskAbortedError(me.task);
        }
        if (me.permit) {
            me.permit = false;
            reschedule(me, false);
            return true;
        }
        me.parked = true;
        me.deadline = deadlineNanos;
        me.timedOut = false;
        me.noteSleep(me.task.waitingOn(), me.task.waitingSinceNanos());
        trace.record(Trace.Kind.PARK, me.task.id(), me.task.waitingOn(), now, steps);
        reschedule(me, false);
        if (me.timedOut) {
            me.timedOut = false;
            return false;
        }
        me.permit = false;
        return true;
    }

    @Override
    public void wake(Task task) {
        checkCaller();
        Object data = platformData(task);
        if (!(data instanceof SimTask)) {
            return; // the timer context and the inspector never sleep
        }
        SimTask t = (SimTask) data;
        if (t.exited) {
            return;
        }
        t.permit = true;
        if (t.parked) {
            t.parked = false;
            trace.record(Trace.Kind.WAKE, t.task.id(), null, now, steps);
        }
    }

    @Override
    public void preemptionPoint() {
        schedulingPoint(false);
    }

    @Override
    public void cpuRelax() {
        schedulingPoint(true);
    }

    private void schedulingPoint(boolean yield) {
        if (override != null && overrideThread == Thread.currentThread()) {
            return; // the timer context runs to completion
        }
        SimTask me = self();
        if (me.task.inAtomic() || aborting) {
            return;
        }
        me.spinning = yield;
        me.spinEpoch = epoch; // it has just looked and found nothing to do
        try {
            reschedule(me, yield);
        } finally {
            me.spinning = false;
        }
    }

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public PlatformTimer newTimer(String name, Runnable callback) {
        if (name == null || callback == null) {
            throw new NullPointerException(name == null ? "name" : "callback");
        }
        return new SimTimer(this, name, callback);
    }

    @Override
    public void close() {
        // Nothing to stop: a run's tasks are torn down when it ends.
    }

    // ------------------------------------------------------------------ the scheduler

    /**
     * The current task gives up the baton at a scheduling point, if the strategy picks another, and
     * returns when it holds the baton again.
     */
    private void reschedule(SimTask me, boolean yield) {
        SimTask next = pick(me, yield);
        if (next == me) {
            return;
        }
        handOff(next);
        me.carrier.await();
        if (aborting && !me.abortDelivered) {
            me.abortDelivered = true;
            throw new TaskAbortedError(me.task);
        }
    }

    /** Gives the baton to {@code next}, or to the controller when {@code next} is {@code null}. */
    private void handOff(SimTask next) {
        running = next;
        if (next == null) {
            controller.grant();
        } else {
            next.carrier.grant();
        }
    }

    /**
     * Picks the task that runs next, running due timer callbacks and advancing virtual time as the
     * strategy and the events require.
     *
     * @param me the task at the scheduling point, or {@code null}
     * @param yield whether {@code me} spins on others and must let another task run first if one can
     * @return the next task, {@code me} to go on, or {@code null} when the run has stopped
     */
    private SimTask pick(SimTask me, boolean yield) {
        if (me != null) {
            now += STEP_NANOS; // the segment me ran since it got the baton
            if (!yield) {
                epoch++; // it may have changed what spinners wait for
            }
        }
        while (true) {
            if (stop != null) {
                return null;
            }
            long[] ids = choice.ids(live.size() + 1);
            dropStaleTimers();
            timeOutExpiredSleeps(); // the clock may have passed a deadline while tasks ran
            SimTimer.Arming due = timers.peek();
            boolean timerDue = due != null && due.deadline <= now;
            int n = 0;
            for (int i = 0, size = live.size(); i < size; i++) {
                SimTask t = live.get(i);
                if (!t.parked && !t.spinning && !t.exited) {
                    ids[n++] = t.task.id();
                }
            }
            if (n == 0 && !timerDue) {
                n = spinners(ids, me, yield);
                if (n < 0) {
                    long next = nextEvent();
                    if (next != NO_DEADLINE) {
                        advanceTo(next); // every spinner has seen the world as it is: spin until the next interrupt
                        continue;
                    }
                    n = -n; // nothing will ever change: spin on, until the livelock bound
                }
            }
            int timerIndex = -1;
            if (timerDue) {
                timerIndex = insertSorted(ids, n, timerContext.id());
                n++;
            }
            if (n == 0) {
                if (live.isEmpty()) {
                    stop(StopKind.DEADLOCK, "every task has exited but the scenario is not done");
                    continue;
                }
                long next = nextEvent();
                if (next == NO_DEADLINE) {
                    stop(StopKind.DEADLOCK, "no task can run and no timer is armed");
                    continue;
                }
                advanceTo(next);
                continue;
            }
            steps++;
            if (n > 1) {
                choices++;
            }
            if (++stepsSinceProgress > livelockBound) {
                stop(StopKind.LIVELOCK, livelockBound + " scheduling steps and timer events without progress");
                continue;
            }
            choice.set(steps, n, me == null ? -1 : me.task.id());
            int c = strategy.pick(choice); // also with one candidate: PCT counts every step
            if (c < 0 || c >= n) {
                throw new IllegalStateException("strategy " + strategy + " picked " + c + " of " + n + " candidates");
            }
            trace.record(Trace.Kind.DECISION, ids[c], null, now, steps);
            if (c == timerIndex) {
                fire(timers.poll());
                continue;
            }
            return taskById(ids[c]);
        }
    }

    /**
     * Fills {@code ids} with the spinners that may run when nothing else can: those that have not spun
     * since the last change (a timer callback or a segment that did not end spinning), which must
     * look at the world again; or, when every spinner has seen it, all of them, {@code me} only if it
     * is the only one, as a negative count.
     */
    private int spinners(long[] ids, SimTask me, boolean yield) {
        int stale = 0;
        for (int i = 0, size = live.size(); i < size; i++) {
            SimTask t = live.get(i);
            if (!t.parked && t.spinning && !t.exited && t.spinEpoch != epoch) {
                ids[stale++] = t.task.id();
            }
        }
        if (stale > 0) {
            return stale;
        }
        int n = 0;
        for (int i = 0, size = live.size(); i < size; i++) {
            SimTask t = live.get(i);
            if (!t.parked && t.spinning && !t.exited && !(yield && t == me)) {
                ids[n++] = t.task.id();
            }
        }
        if (n == 0 && yield && me != null && !me.parked && !me.exited) {
            ids[n++] = me.task.id();
        }
        return -n;
    }

    /** Jumps the clock to {@code next}, the next event; counts toward the livelock bound. */
    private void advanceTo(long next) {
        now = next;
        trace.record(Trace.Kind.TIME, now, null, now, steps);
        timeOutExpiredSleeps();
        if (++stepsSinceProgress > livelockBound) {
            stop(StopKind.LIVELOCK, livelockBound + " scheduling steps and timer events without progress");
        }
    }

    private static int insertSorted(long[] ids, int n, long id) {
        int i = n;
        while (i > 0 && ids[i - 1] > id) {
            ids[i] = ids[i - 1];
            i--;
        }
        ids[i] = id;
        return i;
    }

    private SimTask taskById(long id) {
        for (int i = 0, size = live.size(); i < size; i++) {
            SimTask t = live.get(i);
            if (t.task.id() == id) {
                return t;
            }
        }
        throw new IllegalStateException("no live task " + id);
    }

    private long nextEvent() {
        long next = NO_DEADLINE;
        SimTimer.Arming head = timers.peek();
        if (head != null) {
            next = head.deadline;
        }
        for (int i = 0, size = live.size(); i < size; i++) {
            SimTask t = live.get(i);
            if (t.parked && t.deadline < next) {
                next = t.deadline;
            }
        }
        return next;
    }

    private void timeOutExpiredSleeps() {
        for (int i = 0, size = live.size(); i < size; i++) {
            SimTask t = live.get(i);
            if (t.parked && t.deadline <= now) {
                t.parked = false;
                t.timedOut = true;
                trace.record(Trace.Kind.TIMEOUT, t.task.id(), null, now, steps);
            }
        }
    }

    private void dropStaleTimers() {
        SimTimer.Arming head;
        while ((head = timers.peek()) != null && !head.isCurrent()) {
            timers.poll();
        }
    }

    private void fire(SimTimer.Arming arming) {
        SimTimer timer = arming.timer;
        timer.firing();
        epoch++; // the callback may set what spinners wait for
        trace.record(Trace.Kind.TIMER, timerContext.id(), timer.name(), now, steps);
        Task saved = enterOverride(timerContext);
        try {
            beginTimerCallback(timerContext);
            timer.callback.run();
        } catch (TaskAbortedError e) {
            throw e;
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "timer " + timer.name() + " callback failed", t);
            stop(StopKind.FAILURE, "timer " + timer.name() + " callback failed: " + t);
        } finally {
            exitOverride(saved);
            timer.fired();
        }
    }

    /** Arms {@code timer}'s new generation; called by {@link SimTimer#arm}. */
    void schedule(SimTimer timer, long generation, Duration delay) {
        long deadline = deadlineAfter(delay.plus(faults.timerLatency()));
        timers.add(new SimTimer.Arming(deadline, armingSeq++, timer, generation));
        trace.record(Trace.Kind.ARM, deadline, timer.name(), now, steps);
    }

    /** Whether the calling context is the timer context running {@code timer}'s callback. */
    boolean inTimerContext() {
        return override == timerContext && overrideThread == Thread.currentThread();
    }

    @Override
    public String toString() {
        return "SimPlatform[" + strategy + ", step " + steps + ", t=" + now + "ns]";
    }
}
