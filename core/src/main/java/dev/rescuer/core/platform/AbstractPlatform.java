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
 * the wait protocol around {@link #await} (the atomic check, the wait target, the sleep listener) and
 * the thread body wrapper. A concrete platform supplies how a task really sleeps and wakes, how a
 * thread starts, the clock and the timers.
 */
public abstract class AbstractPlatform implements Platform {

    /** The logger platforms report through. */
    protected static final System.Logger LOG = System.getLogger("dev.rescuer.platform");

    private final AtomicLong nextTaskId = new AtomicLong(1);
    private final Set<Task> live = ConcurrentHashMap.newKeySet();
    private volatile ThreadStartCost threadStartCost = ThreadStartCost.FREE;

    /** Creates a task record and registers it as live. */
    protected final Task newTask(String name, boolean adopted) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a task needs a non-blank name");
        }
        Task t = new Task(this, nextTaskId.getAndIncrement(), name, adopted);
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
                task.exited(failure);
            }
        }
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

    @Override
    public final boolean await(Primitive on, BooleanSupplier condition, long deadlineNanos) {
        Task self = currentTask();
        self.checkMaySleep(on, "await");
        if (condition.getAsBoolean()) {
            return true;
        }
        self.beginWait(on, nanoTime());
        SleepListener listener = self.sleepListener();
        if (listener != null) {
            listener.sleeping(self);
        }
        try {
            while (true) {
                if (!park(self, deadlineNanos)) {
                    return condition.getAsBoolean();
                }
                if (condition.getAsBoolean()) {
                    return true;
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
                live.remove(t);
            }
        }
        out.sort((a, b) -> Long.compare(a.id(), b.id()));
        return out;
    }

    /** Whether a registered task is still live; platforms drop adopted tasks whose thread died. */
    protected boolean isLive(Task task) {
        return !task.hasExited();
    }
}
