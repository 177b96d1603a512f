package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.List;

/**
 * A counting semaphore, like the kernel's {@code struct semaphore}: {@link #down()} takes a unit,
 * sleeping while none is left; {@link #up()} gives one back, from any task.
 *
 * <p>Guarantees: the count never goes negative; waiters are served in FIFO order, and {@code up()}
 * with waiters hands its unit directly to the first of them, so a later {@code down()} cannot
 * overtake a sleeper. A semaphore has no owner: any task may {@code up()} it, which is why the kernel
 * (and the 2019 dm-snapshot throttle) uses one to limit work in flight across tasks. Blocking calls
 * from atomic context throw {@link dev.rescuer.core.platform.AtomicContextException};
 * {@link #tryDown()} and {@link #up()} never sleep and are allowed there.
 */
public final class Semaphore extends SleepingPrimitive {

    // Guarded by guard.
    private int count;

    /** A semaphore with {@code permits} initial units whose class is its name. */
    public Semaphore(Platform platform, String name, int permits) {
        this(platform, name, name, permits);
    }

    /** A semaphore named {@code name} in class {@code lockClass} with {@code permits} initial units. */
    public Semaphore(Platform platform, String name, String lockClass, int permits) {
        super(platform, name, lockClass);
        if (permits < 0) {
            throw new IllegalArgumentException("semaphore " + name + ": initial count must be >= 0, got " + permits);
        }
        this.count = permits;
    }

    @Override
    public String kind() {
        return "semaphore";
    }

    /** Takes a unit, sleeping until one is available ({@code down}). */
    public void down() {
        acquire(Platform.NO_DEADLINE, "down");
    }

    /**
     * Takes a unit, sleeping at most {@code timeout} ({@code down_timeout}).
     *
     * @return whether a unit was taken
     */
    public boolean downTimeout(Duration timeout) {
        return acquire(platform.deadlineAfter(timeout), "down_timeout");
    }

    /**
     * Takes a unit unless the task is interrupted first ({@code down_interruptible}, and
     * {@code down_killable}: the JVM has one kind of interrupt). A unit that is available is taken
     * even with an interrupt pending.
     *
     * @throws InterruptedException if interrupted before a unit was handed over; the interrupt is consumed
     */
    public void downInterruptible() throws InterruptedException {
        if (acquire(Platform.NO_DEADLINE, "down_interruptible", true) == INTERRUPTED) {
            throw interruptedWhile("down_interruptible", platform.currentTask());
        }
    }

    private boolean acquire(long deadline, String op) {
        return acquire(deadline, op, false) == GRANTED;
    }

    private int acquire(long deadline, String op, boolean interruptible) {
        Task self = platform.currentTask();
        self.checkMaySleep(this, op);
        platform.preemptionPoint();
        if (deadline == Platform.NO_DEADLINE) {
            reportWait(self);
        }
        Waiter w;
        guard.lock();
        try {
            if (count > 0) {
                count--;
                return GRANTED;
            }
            w = enqueueLocked(self, Waiter.EXCLUSIVE);
        } finally {
            guard.unlock();
        }
        return awaitGrant(w, deadline, interruptible);
    }

    /** Takes a unit if one is available, without sleeping ({@code down_trylock}, with the opposite sign). */
    public boolean tryDown() {
        platform.preemptionPoint();
        guard.lock();
        try {
            if (count > 0) {
                count--;
                return true;
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /** Gives a unit back, to the first waiter if there is one ({@code up}). Never sleeps. */
    public void up() {
        reportSignal();
        guard.lock();
        try {
            Waiter w = waiters.pollFirst();
            if (w != null) {
                grantLocked(w);
            } else if (count == Integer.MAX_VALUE) {
                throw new IllegalStateException("up of " + describe() + " would overflow its count");
            } else {
                count++;
            }
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /** The number of available units. Advisory. */
    public int availablePermits() {
        guard.lock();
        try {
            return count;
        } finally {
            guard.unlock();
        }
    }

    /** The tasks waiting for a unit, oldest first. A snapshot. */
    public List<Task> waitingTasks() {
        return queuedTasks(-1);
    }
}
