package dev.rescuer.core.platform;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The bookkeeping every platform shares: task records and their registry, the thread-start cost,
 * the wait protocol around {@link #await} (the atomic check, the wait target, the sleep listener),
 * the thread body wrapper and exit processing. A concrete platform supplies how a task really sleeps
 * and wakes, how a thread starts, the clock and the timers.
 *
 * <p><b>Exit.</b> A task leaves the registry when its body ends ({@link #runTask}) or, for an adopted
 * task, when the platform finds its thread dead ({@link #isLive}). Either way {@link #retire} checks
 * what it still holds, like the kernel's {@code debug_check_no_locks_held()} in {@code do_exit}: the
 * locks stay held (the kernel does not release them either), a warning names the task and the
 * locks, the task's record keeps them as {@link Task#heldAtExit()}, and the record moves to
 * {@link #exitedHolders()} so that reports name the dead holder instead of nobody.
 *
 * <p><b>Memory ordering.</b> The registries are concurrent sets: adding a record happens-before any
 * thread that iterates them sees it. A task's held-primitive list is plain and written only by the
 * task; {@link #retire} reads it either on the task's own thread or after the platform has seen the
 * thread dead ({@code Thread.isAlive()} returning {@code false} synchronizes with the thread's last
 * action), so it reads the final list. The thread-start cost is volatile, written once under this
 * object's monitor.
 */
public abstract class AbstractPlatform implements Platform {

    /** The logger platforms report through. */
    protected static final System.Logger LOG = System.getLogger("dev.rescuer.platform");

    private final AtomicLong nextTaskId = new AtomicLong(1);
    /** Registered tasks not yet retired. Concurrent set: any task adds, removes and iterates. */
    private final Set<Task> live = ConcurrentHashMap.newKeySet();
    /** Retired tasks that exited holding primitives; kept for reports. Concurrent set. */
    private final Set<Task> exitedHolders = ConcurrentHashMap.newKeySet();
    /** Written under {@code this}'s monitor; read anywhere. */
    private volatile ThreadStartCost threadStartCost = ThreadStartCost.FREE;
    /** The validator's listener, or null. Written by {@link #setLockEvents}; read on every reported event. */
    private volatile LockEvents lockEvents;

    /** The adoption order the next adopted task gets ({@link Task#adoptionOrder()}). */
    private final AtomicLong nextAdoption = new AtomicLong();

    /** Creates a task record and registers it as live. */
    protected final Task newTask(String name, boolean adopted) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a task needs a non-blank name");
        }
        Task t = new Task(this, nextTaskId.getAndIncrement(), name, adopted ? nextAdoption.getAndIncrement() : -1);
        live.add(t);
        return t;
    }

    /** The platform-private state attached to {@code task}. */
    protected static Object platformData(Task task) {
        return task.platformData;
    }

    /** Attaches platform-private state to {@code task}. */
    protected static void setPlatformData(Task task, Object data) {
        task.platformData = data;
    }

    /** Removes a task from the live set without running exit processing (a start that failed). */
    protected final void forget(Task task) {
        live.remove(task);
    }

    /** The installed thread-start cost. */
    protected final ThreadStartCost threadStartCost() {
        return threadStartCost;
    }

    @Override
    public final void setThreadStartCost(ThreadStartCost cost) {
        if (cost == null) {
            throw new NullPointerException("cost");
        }
        synchronized (this) {
            if (threadStartCost != ThreadStartCost.FREE && cost != ThreadStartCost.FREE) {
                throw new IllegalStateException("a thread-start cost is already installed on this platform");
            }
            threadStartCost = cost;
        }
    }

    @Override
    public final LockEvents lockEvents() {
        return lockEvents;
    }

    /**
     * Installs (or, with {@code null}, removes) the validator's listener. Events from then on go to
     * it; install it before the tasks it should watch start, since a listener learns only what it
     * sees (a lock taken before it was installed and released after is released without having
     * been seen acquired, which a listener must tolerate).
     */
    public final void setLockEvents(LockEvents listener) {
        this.lockEvents = listener;
    }

    /**
     * Tells the validator, if any, that a timer callback is about to run on {@code timerTask}: a
     * new signalling context, since one callback's signals owe nothing to the previous callback's.
     */
    protected final void beginTimerCallback(Task timerTask) {
        LockEvents ev = lockEvents;
        if (ev != null) {
            ev.contextBoundary(timerTask);
        }
    }

    @Override
    public final boolean threadStartMayReclaim() {
        return threadStartCost.mayReclaim();
    }

    /**
     * Runs a started task's body on its own thread: runs the body, records a failure, refunds the
     * start cost, then marks the task exited and wakes its joiners.
     */
    protected final void runTask(Task task, Runnable body, ThreadStartCost.Refund refund) {
        Throwable failure = null;
        try {
            body.run();
        } catch (TaskAbortedError aborted) {
            failure = aborted; // torn down by its platform: expected, not reported
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "task " + task + " died", t);
        } finally {
            live.remove(task);
            try {
                refund.refund(); // before joiners wake, so that they see the thread's pages returned
            } finally {
                retire(task, failure);
            }
        }
    }

    /**
     * Exit processing for a task already removed from the registry: the held-locks check, then the
     * exit itself (state, failure, joiners woken). Runs on the task's own thread, or on any thread
     * once the platform knows the task's thread is dead.
     */
    protected final void retire(Task task, Throwable failure) {
        List<Primitive> held = task.heldPrimitives();
        if (!held.isEmpty() && !(failure instanceof TaskAbortedError)) {
            exitedHolders.add(task);
            StringBuilder sb = new StringBuilder("task ").append(task).append(" exited with locks still held!");
            for (Primitive p : held) {
                sb.append("\n  holding: ").append(p.describe());
            }
            sb.append("\n  They stay held; a task waiting for them waits forever.");
            LOG.log(Level.WARNING, sb.toString());
        }
        task.exited(failure, held);
    }

    @Override
    public Collection<Task> exitedHolders() {
        List<Task> out = new ArrayList<>(exitedHolders);
        out.sort((a, b) -> Long.compare(a.id(), b.id()));
        return out;
    }

    @Override
    public final void join(Task task) {
        Task self = currentTask();
        if (task == self) {
            throw new IllegalStateException("task " + self + " cannot join itself");
        }
        if (task.hasExited()) {
            return;
        }
        task.addExitWaiter(self);
        await(task.exitEvent(), task::hasExited, NO_DEADLINE);
    }

    /** Outcomes of {@link #sleep}. */
    private static final int TIMED_OUT = 0;
    private static final int SATISFIED = 1;
    private static final int INTERRUPTED = 2;

    @Override
    public final boolean await(Primitive on, BooleanSupplier condition, long deadlineNanos) {
        return sleep(on, condition, deadlineNanos, false) == SATISFIED;
    }

    @Override
    public final boolean awaitInterruptible(Primitive on, BooleanSupplier condition, long deadlineNanos)
            throws InterruptedException {
        int outcome = sleep(on, condition, deadlineNanos, true);
        if (outcome == INTERRUPTED) {
            throw new InterruptedException("task " + currentTask() + " was interrupted while waiting on " + on.describe());
        }
        return outcome == SATISFIED;
    }

    private int sleep(Primitive on, BooleanSupplier condition, long deadlineNanos, boolean interruptible) {
        Task self = currentTask();
        self.checkMaySleep(on, "await");
        if (condition.getAsBoolean()) {
            return SATISFIED;
        }
        if (interruptible && takeInterrupt(self)) {
            return INTERRUPTED;
        }
        self.beginWait(on, nanoTime());
        SleepListener listener = self.sleepListener();
        if (listener != null) {
            listener.sleeping(self);
        }
        try {
            while (true) {
                if (!park(self, deadlineNanos, interruptible)) {
                    return condition.getAsBoolean() ? SATISFIED : TIMED_OUT;
                }
                if (condition.getAsBoolean()) {
                    return SATISFIED;
                }
                if (interruptible && takeInterrupt(self)) {
                    return INTERRUPTED;
                }
            }
        } finally {
            self.endWait();
            if (listener != null) {
                listener.running(self);
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the interrupt is a flag in the task record, set before the task is woken; a platform
     * that keeps interrupts elsewhere (on the JVM thread) overrides this with {@link #isInterrupted}
     * and {@link #takeInterrupt}.
     */
    @Override
    public void interrupt(Task task) {
        task.setInterruptPending();
        if (task != currentTask()) {
            wake(task);
        }
    }

    @Override
    public boolean isInterrupted(Task task) {
        return task.interruptPending();
    }

    @Override
    public final boolean interrupted() {
        return takeInterrupt(currentTask());
    }

    /** Consumes {@code self}'s pending interrupt (called by the task itself); whether there was one. */
    protected boolean takeInterrupt(Task self) {
        return self.takeInterruptPending();
    }

    /**
     * Like {@link #park(Task, long)}, knowing whether the sleep is interruptible. A platform whose
     * {@link #interrupt} wakes the task need not override it; one on which an interrupt arrives
     * without a wake (a JVM {@code Thread.interrupt}) returns {@code true} on it when
     * {@code interruptible}.
     */
    protected boolean park(Task self, long deadlineNanos, boolean interruptible) {
        return park(self, deadlineNanos);
    }

    /**
     * Sleeps until woken or until the deadline; a wake issued since the last park makes it return
     * at once.
     *
     * @return {@code false} if the deadline passed, {@code true} otherwise (woken, possibly spuriously)
     */
    protected abstract boolean park(Task self, long deadlineNanos);

    @Override
    public Collection<Task> tasks() {
        List<Task> out = new ArrayList<>(live.size());
        for (Task t : live) {
            if (isLive(t)) {
                out.add(t);
            } else {
                drop(t);
            }
        }
        out.sort((a, b) -> Long.compare(a.id(), b.id()));
        return out;
    }

    /**
     * Drops every registered task that is no longer live, running exit processing for adopted tasks
     * whose thread died. {@link #tasks()} does this as it goes; platforms that adopt threads call it
     * so that the registry stays bounded when nobody asks for the task list.
     */
    protected final void pruneRegistry() {
        for (Task t : live) {
            if (!isLive(t)) {
                drop(t);
            }
        }
    }

    private void drop(Task t) {
        if (live.remove(t) && t.isAdopted() && !t.hasExited()) {
            retire(t, null); // its thread died: nobody else will
        }
    }

    /** How many records the registry holds now, live or not yet pruned. */
    protected final int registrySize() {
        return live.size();
    }

    /**
     * Whether a registered task is still live. A started task is live until its body ends; a platform
     * that adopts foreign threads answers {@code false} for an adopted task whose thread has died.
     */
    protected boolean isLive(Task task) {
        return !task.hasExited();
    }
}
