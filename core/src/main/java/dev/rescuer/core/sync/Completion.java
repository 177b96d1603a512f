package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.List;

/**
 * A one-way event that tasks wait for, like the kernel's {@code struct completion}.
 *
 * <p>It counts completions: each {@link #complete()} lets exactly one wait return, now or later;
 * {@link #completeAll()} lets every present and future wait return until {@link #reinit()}. Waiters
 * are released in FIFO order: {@code complete} hands its count to the first waiter at once, so a
 * woken waiter is never overtaken by a newcomer, which the kernel's {@code done} counter allows
 * (docs/ARCHITECTURE.md, "Differences"). {@code complete} and {@code completeAll} never sleep and may be called
 * from atomic context and from any task; waits from atomic context throw
 * {@link dev.rescuer.core.platform.AtomicContextException}.
 */
public final class Completion extends SleepingPrimitive {

    private static final int ALL = Integer.MAX_VALUE;

    // Guarded by guard. ALL means completeAll() was called.
    private int done;
    /** Set once before first use; read by reports. Volatile. */
    private volatile Object owner;

    /** A completion whose class is its name. */
    public Completion(Platform platform, String name) {
        this(platform, name, name);
    }

    /** A completion named {@code name} in class {@code lockClass}. */
    public Completion(Platform platform, String name, String lockClass) {
        super(platform, name, lockClass);
    }

    @Override
    public String kind() {
        return "completion";
    }

    /**
     * The structure whose event this completion stands for (a bio that {@code submit_bio_wait} waits
     * for, say a {@link dev.rescuer.core.platform.HandedOnEvent}), or {@code null}. Reports follow it to
     * whoever can complete it; the completion itself never uses it.
     */
    public Object owner() {
        return owner;
    }

    /** Records the structure this completion belongs to; see {@link #owner()}. Set once, before first use. */
    public void setOwner(Object owner) {
        this.owner = owner;
    }

    /** Sleeps until the completion has been completed, and consumes one completion ({@code wait_for_completion}). */
    public void waitFor() {
        await(Platform.NO_DEADLINE, "wait_for_completion");
    }

    /**
     * Like {@link #waitFor()}, giving up after {@code timeout} ({@code wait_for_completion_timeout}).
     *
     * @return whether the completion was consumed
     */
    public boolean waitFor(Duration timeout) {
        return await(platform.deadlineAfter(timeout), "wait_for_completion_timeout");
    }

    /**
     * Like {@link #waitFor()}, unless the task is interrupted first
     * ({@code wait_for_completion_interruptible}, and {@code _killable}).
     *
     * @throws InterruptedException if interrupted before a completion was consumed; the interrupt is consumed
     */
    public void waitForInterruptible() throws InterruptedException {
        if (await(Platform.NO_DEADLINE, "wait_for_completion_interruptible", true) == INTERRUPTED) {
            throw interruptedWhile("wait_for_completion_interruptible", platform.currentTask());
        }
    }

    private boolean await(long deadline, String op) {
        return await(deadline, op, false) == GRANTED;
    }

    private int await(long deadline, String op, boolean interruptible) {
        Task self = platform.currentTask();
        self.checkMaySleep(this, op);
        platform.preemptionPoint();
        if (deadline == Platform.NO_DEADLINE) {
            reportWait(self);
        }
        Waiter w;
        guard.lock();
        try {
            if (consumeLocked()) {
                return GRANTED;
            }
            w = enqueueLocked(self, Waiter.EXCLUSIVE);
        } finally {
            guard.unlock();
        }
        return awaitGrant(w, deadline, interruptible);
    }

    private boolean consumeLocked() {
        assert guard.isHeldByCurrentThread();
        if (done == 0) {
            return false;
        }
        if (done != ALL) {
            done--;
        }
        return true;
    }

    /** Consumes a completion if one is there, without sleeping ({@code try_wait_for_completion}). */
    public boolean tryWaitFor() {
        platform.preemptionPoint();
        guard.lock();
        try {
            return consumeLocked();
        } finally {
            guard.unlock();
        }
    }

    /** Releases one waiter, or the next wait if none is waiting ({@code complete}). */
    public void complete() {
        reportSignal();
        guard.lock();
        try {
            Waiter w = waiters.pollFirst();
            if (w != null) {
                grantLocked(w);
            } else if (done != ALL) {
                if (done == ALL - 1) {
                    throw new IllegalStateException("complete of " + describe() + " would overflow its count");
                }
                done++;
            }
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /** Releases every waiter and every future wait until {@link #reinit()} ({@code complete_all}). */
    public void completeAll() {
        reportSignal();
        guard.lock();
        try {
            done = ALL;
            for (Waiter w; (w = waiters.pollFirst()) != null; ) {
                grantLocked(w);
            }
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /** Whether a wait would return at once ({@code completion_done}). Advisory. */
    public boolean isDone() {
        guard.lock();
        try {
            return done != 0;
        } finally {
            guard.unlock();
        }
    }

    /**
     * Forgets past completions so the object can be reused ({@code reinit_completion}). Tasks already
     * waiting keep waiting.
     */
    public void reinit() {
        guard.lock();
        try {
            done = 0;
        } finally {
            guard.unlock();
        }
    }

    /** The tasks waiting, oldest first. A snapshot. */
    public List<Task> waitingTasks() {
        return queuedTasks(-1);
    }
}
