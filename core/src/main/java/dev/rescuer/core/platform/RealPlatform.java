package dev.rescuer.core.platform;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The platform on JVM threads: tasks are platform threads, sleeping is {@link LockSupport#park}, the
 * clock is {@link System#nanoTime()}.
 *
 * <p><b>Wake-ups.</b> Each task has a wake-up word: {@code RUNNING}, {@code PERMIT} (a one-bit
 * permit) or {@code PARKED}. {@link #wake} swaps in {@code PERMIT} and unparks the thread only if it
 * found {@code PARKED}; {@code park} consumes a permit and sleeps only when there was none. That is
 * the kernel's "set state, check condition, schedule()" protocol: a wake between the condition check
 * and the sleep is not lost. Before it parks, a task spins on its word for an adaptive budget of at
 * most {@value SpinBudget#MAX_NANOS} ns ({@link SpinBudget}; none on a one-CPU machine), so a wake-up
 * that comes soon costs neither side a system call; {@code LockSupport}'s own spurious returns are
 * absorbed here.
 *
 * <p><b>Timers.</b> One daemon thread, the timer context, keeps armed timers in a heap ordered by
 * deadline and runs expired callbacks one at a time, in atomic context, under a task record of its
 * own named {@code "timer/<platform>"}. Arming, re-arming and cancelling are O(log n); a re-armed
 * timer's stale heap entry is skipped by generation number rather than removed.
 *
 * <p>Threads started here are daemon threads. Foreign threads (main, a test runner's) are adopted on
 * first use. An adopted record whose thread has died is retired (exit processing, including the
 * held-locks check) when {@link #tasks()} or a later adoption finds it, so the registry stays bounded
 * by the live threads; a dead task that still holds a lock stays reachable through the lock and
 * {@link #exitedHolders()}.
 *
 * <p><b>Interrupts</b> are the JVM's: {@link #interrupt} is {@link Thread#interrupt()}, and a thread
 * interrupted by any code ends its interruptible platform sleep ({@link #awaitInterruptible}) with
 * {@link InterruptedException}. Uninterruptible sleeps keep the interrupt set for later.
 *
 * <p><b>Blocking outside the platform.</b> {@link #isBlockedOutsidePlatform} reads the JVM thread
 * state; the task's own waits here (park, and the timer context's waits and timer-lock waits) are
 * bracketed by an odd/even sequence number so that they are never taken for foreign blocking.
 *
 * <p><b>Memory ordering.</b> Every change of a task's wake-up word is an atomic read-modify-write,
 * so the changes are totally ordered and each reads the one before it: a waker's
 * {@code getAndSet(PERMIT)} comes after its writes to the condition's state, and the task's
 * compare-and-set of {@code PERMIT} to {@code RUNNING} (in the spin, before the park, or after it)
 * reads that {@code PERMIT} and so sees those writes when it re-checks the condition; a wake-up
 * that lands after the spin's last look makes the task's compare-and-set of {@code RUNNING} to
 * {@code PARKED} fail, and the task takes the permit instead of parking; a waker that finds
 * {@code PARKED} unparks, and {@code LockSupport}'s own permit keeps an unpark that comes before the
 * park. So no wake-up is lost and the waker's unpark is skipped exactly when the task has not
 * announced a park. The word is the only fenced operation a sleep and a wake add to
 * {@code LockSupport}'s (the task record's wait fields are release stores; the spin's looks are
 * plain volatile loads, and its budget is the task's own plain state).
 * The in-platform sequence number is a volatile field read with volatile loads and written only by
 * its task, without a fence: entering a wait writes it odd and then a store-store fence, so the odd
 * value is visible before the JVM's store of the parked thread's state; leaving writes it even with a
 * release store, after the JVM's store of the running state. A reader that sees the same even value
 * before and after reading {@code Thread.getState()} (a volatile load of the thread's status) thus
 * knows the state did not come from a platform wait. Timer heaps and timer state are guarded by
 * {@code timerLock}; a callback runs with it released, and {@code running} (set before, cleared
 * after, under the lock) is what {@code cancelSync} waits on. The adoption counters are hints: a lost
 * update only moves the next prune.
 */
public final class RealPlatform extends AbstractPlatform {

    private static final int MIN_ADOPTIONS_BETWEEN_PRUNES = 64;

    private final String label;
    /** The record of a thread this platform did not start (adopted); each thread sets its own. */
    private final ThreadLocal<Task> current = new ThreadLocal<>();
    /** Adoptions since the last registry prune. Atomic: any foreign thread adopts. */
    private final AtomicInteger adoptionsSincePrune = new AtomicInteger();
    /** The registry's size after the last prune; racy by design (a hint for when to prune next). */
    private volatile int sizeAfterPrune;

    // Timer context. The heap, armingSeq, timerThread, timerTask, closed and every timer's state are
    // guarded by timerLock (taken through lockTimer() by tasks, directly by the timer context).
    private final ReentrantLock timerLock = new ReentrantLock();
    private final Condition timerChanged = timerLock.newCondition();
    private final PriorityQueue<Arming> heap = new PriorityQueue<>();
    private long armingSeq;
    private Thread timerThread;
    private Task timerTask;
    private boolean closed;

    /** Per-task state of this platform: the JVM thread, the wake-up word, the in-platform mark, the spin budget. */
    private static final class RealTask {
        final Thread thread;
        /**
         * The wake-up word: {@link #RUNNING} (no permit, not parked), {@link #PERMIT} (a wake-up not yet
         * consumed) or {@link #PARKED} (no permit, and the task is in, or about to call,
         * {@code LockSupport.park}). Any waker sets {@code PERMIT}; only the task itself moves it to
         * {@code RUNNING} or {@code PARKED}. Every change is an atomic read-modify-write (see the class
         * comment's memory-ordering paragraph).
         */
        volatile int wakeState;
        /**
         * Odd while the thread waits inside the platform (its park, the timer context's own waits, the
         * timer lock), even otherwise; written only by the thread itself, read by any task. A seqlock:
         * a reader that sees the same even value before and after reading the thread's JVM state knows
         * that state was not caused by a platform wait.
         */
        volatile int platformWaitSeq;
        /** How long this task's next park may spin; {@code null}: never (one CPU). Used only by the task. */
        final SpinBudget spin;

        RealTask(Thread thread, SpinBudget spin) {
            this.thread = thread;
            this.spin = spin;
        }

        /** Marks the calling thread (this task's) as waiting inside the platform; false if it already was. */
        boolean enterPlatformWait() {
            int seq = platformWaitSeq;
            if ((seq & 1) != 0) {
                return false;
            }
            SEQ.set(this, seq + 1);
            VarHandle.storeStoreFence(); // before the JVM's own store of the thread's state
            return true;
        }

        void exitPlatformWait() {
            SEQ.setRelease(this, platformWaitSeq + 1); // after the JVM's store of the thread's state
        }

        /** Consumes a pending wake-up (the task itself); whether there was one. */
        boolean takePermit() {
            return wakeState == PERMIT && WAKE.compareAndSet(this, PERMIT, RUNNING);
        }
    }

    /** {@link RealTask#wakeState}: running, no wake-up pending. */
    private static final int RUNNING = 0;
    /** {@link RealTask#wakeState}: a wake-up is pending. */
    private static final int PERMIT = 1;
    /** {@link RealTask#wakeState}: parked (or about to park) with no wake-up pending; a waker must unpark. */
    private static final int PARKED = 2;

    private static final VarHandle SEQ;
    private static final VarHandle WAKE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            SEQ = l.findVarHandle(RealTask.class, "platformWaitSeq", int.class);
            WAKE = l.findVarHandle(RealTask.class, "wakeState", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Spinning needs a second CPU for the waker (as the JDK's own spins: none on one CPU). */
    private static final boolean MAY_SPIN = Runtime.getRuntime().availableProcessors() > 1;

    /** Makes each task's spin budget; {@code null} from it means that task never spins. */
    private final Supplier<SpinBudget> spinBudgets;

    /**
     * Creates a platform on JVM threads; its tasks spin for up to {@value SpinBudget#MAX_NANOS} ns
     * before they park when the machine has more than one CPU.
     */
    public RealPlatform() {
        this(() -> MAY_SPIN ? new SpinBudget(SpinBudget.MAX_NANOS) : null);
    }

    /**
     * Creates a platform on JVM threads whose tasks spin for at most {@code maxSpin} before they
     * park (the adaptive rule of {@link #RealPlatform()} within that bound), or never with
     * {@link Duration#ZERO}: then every sleep parks at once, as {@code LockSupport.park} does, and a
     * wake-up of a sleeping task always costs the waker an unpark. Spinning trades CPU for latency:
     * a task whose wake-ups keep coming within the bound stays on its CPU between them. On a machine
     * with one CPU no task spins, whatever the bound.
     *
     * @param maxSpin the longest spin, {@link Duration#ZERO} or from 2.5 to 80 µs
     * @throws IllegalArgumentException if {@code maxSpin} is negative, above 80 µs, or above zero
     *     and below 2.5 µs (the shortest spin the adaptive budget keeps)
     */
    public RealPlatform(Duration maxSpin) {
        this(spinBudgets(maxSpin));
    }

    /** The spin budget of one of this platform's tasks; {@code null} if it never spins (tests). */
    SpinBudget spinBudgetOf(Task task) {
        return ((RealTask) platformData(task)).spin;
    }

    private static Supplier<SpinBudget> spinBudgets(Duration maxSpin) {
        long nanos = SpinBudget.maxSpinNanos(maxSpin);
        return () -> MAY_SPIN && nanos != 0 ? new SpinBudget(nanos, nanos) : null;
    }

    /** A platform whose tasks take their spin budgets from {@code spinBudgets} (tests). */
    RealPlatform(Supplier<SpinBudget> spinBudgets) {
        this.label = "real@" + Integer.toHexString(System.identityHashCode(this));
        this.spinBudgets = spinBudgets;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: a thread this platform started carries its task ({@link TaskThread}), found with a type
     * check and two loads; any other thread (an adopted one, or one started by another platform) is
     * looked up in a thread-local, and adopted on first use.
     */
    @Override
    public Task currentTask() {
        Task t = knownTask();
        return t != null ? t : adopt();
    }

    /** The calling thread's record if this platform has one, without adopting the thread. */
    private Task knownTask() {
        if (Thread.currentThread() instanceof TaskThread tt && tt.platform == this) {
            return tt.task;
        }
        return current.get();
    }

    /**
     * A thread this platform starts, carrying its task so that {@link #currentTask()} needs no
     * thread-local lookup on it. Both fields are final and set before {@code start()}.
     */
    private static final class TaskThread extends Thread {
        final RealPlatform platform;
        final Task task;

        TaskThread(RealPlatform platform, Task task, Runnable body, String name) {
            super(body, name);
            this.platform = platform;
            this.task = task;
        }
    }

    /** {@inheritDoc} Here: whether the task's JVM thread is the calling thread; no thread-local lookup. */
    @Override
    public boolean isCurrentTask(Task task) {
        return platformData(task) instanceof RealTask rt && rt.thread == Thread.currentThread();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the task has not exited (its thread may still be finishing its exit), its thread is
     * not inside one of this platform's waits (its in-platform mark is even) and is in the JVM's
     * {@code RUNNABLE} state (so not parked, waiting or blocked on a
     * monitor outside the platform either). The JVM cannot tell whether the operating system has
     * descheduled a runnable thread, or whether it sits in blocking I/O; both count as running.
     */
    @Override
    public boolean isOnCpu(Task task) {
        return platformData(task) instanceof RealTask rt && (rt.platformWaitSeq & 1) == 0
                && rt.thread.getState() == Thread.State.RUNNABLE && !task.hasExited();
    }

    /**
     * Adopts the calling foreign thread. Every so often it first prunes the registry of adopted
     * records whose thread has died, so that a stream of short-lived foreign threads leaves a number
     * of records bounded by the live ones, whether or not anybody calls {@link #tasks()}: a prune
     * runs once the adoptions since the last one reach the registry's size after it (at least
     * {@link #MIN_ADOPTIONS_BETWEEN_PRUNES}), which keeps the cost amortized O(1) per adoption.
     */
    private Task adopt() {
        int since = adoptionsSincePrune.incrementAndGet();
        if (since >= Math.max(MIN_ADOPTIONS_BETWEEN_PRUNES, sizeAfterPrune)) {
            adoptionsSincePrune.set(0);
            pruneRegistry();
            sizeAfterPrune = registrySize();
        }
        Thread th = Thread.currentThread();
        Task t = newTask(th.getName(), true);
        setPlatformData(t, new RealTask(th, spinBudgets.get()));
        current.set(t);
        return t;
    }

    @Override
    protected boolean isLive(Task task) {
        if (task.hasExited()) {
            return false;
        }
        return !task.isAdopted() || ((RealTask) platformData(task)).thread.isAlive();
    }

    @Override
    public Task startThread(String name, Runnable body) {
        if (body == null) {
            throw new NullPointerException("body");
        }
        ThreadStartCost.Refund refund = threadStartCost().charge(name);
        Task task;
        try {
            task = newTask(name, false);
        } catch (RuntimeException e) {
            refund.refund();
            throw e;
        }
        Thread thread = new TaskThread(this, task, () -> runTask(task, body, refund), name);
        thread.setDaemon(true);
        setPlatformData(task, new RealTask(thread, spinBudgets.get()));
        try {
            thread.start();
        } catch (OutOfMemoryError | IllegalThreadStateException e) {
            forget(task);
            refund.refund();
            throw new ThreadStartException("cannot start thread " + name + ": the JVM refused a native thread", e);
        }
        return task;
    }

    @Override
    protected boolean park(Task self, long deadlineNanos) {
        return park(self, deadlineNanos, false);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: a pending wake-up is consumed at once. Otherwise, unless the primitive it waits on
     * declines the poll ({@link Primitive#pollsBeforeSleep()}), the task first spins on its wake-up
     * word for up to its adaptive budget ({@link SpinBudget}), watching its deadline and, when
     * {@code interruptible}, its interrupt; then it announces {@code PARKED} with a compare-and-set
     * (which fails if a wake-up came after the spin's last look, and that wake-up is then consumed)
     * and parks until a waker's {@code PERMIT} replaces it. An uninterruptible sleep takes a pending
     * {@code Thread} interrupt out of the way (it would make every later {@code LockSupport.park}
     * return at once and this loop spin) and sets it again on the way out; an interruptible one
     * returns as if woken when the thread is interrupted, leaving the interrupt set for
     * {@link #takeInterrupt} to consume. A sleep that ends without a wake-up (deadline, interrupt)
     * leaves the word {@code RUNNING}, or {@code PERMIT} if a wake-up raced with the ending, which the
     * next park then consumes.
     */
    @Override
    protected boolean park(Task self, long deadlineNanos, boolean interruptible) {
        RealTask rt = (RealTask) platformData(self);
        if (rt.takePermit()) {
            return true;
        }
        boolean marked = rt.enterPlatformWait();
        try {
            Primitive on = self.waitingOn();
            int spun = on != null && !on.pollsBeforeSleep() ? SPIN_RAN_OUT : spin(rt, deadlineNanos, interruptible);
            if (spun != SPIN_RAN_OUT) {
                return spun == SPIN_WOKEN;
            }
            return parkAnnounced(self, rt, deadlineNanos, interruptible);
        } finally {
            if (marked) {
                rt.exitPlatformWait();
            }
        }
    }

    /** {@link #spin}: the permit came and was consumed. */
    private static final int SPIN_WOKEN = 0;
    /** {@link #spin}: the deadline passed. */
    private static final int SPIN_DEADLINE = 1;
    /** {@link #spin}: the budget ran out, or none was given, or an uninterruptible wait saw an interrupt: park. */
    private static final int SPIN_RAN_OUT = 2;

    /** How many spin turns between two looks at the clock and the interrupt. */
    private static final int SPINS_PER_CLOCK_READ = 16;

    /**
     * Spins on the wake-up word for up to the task's budget, recording the outcome in it. An
     * interruptible wait that sees an interrupt returns {@code SPIN_WOKEN} (as the park would:
     * "woken", the interrupt left set); an uninterruptible one that sees an interrupt stops spinning
     * ({@code onSpinWait} does not mind it, but the park must set it aside).
     */
    private static int spin(RealTask rt, long deadlineNanos, boolean interruptible) {
        SpinBudget budget = rt.spin;
        long nanos = budget == null ? 0 : budget.next();
        if (nanos == 0) {
            return SPIN_RAN_OUT;
        }
        long start = System.nanoTime();
        for (int i = 1; ; i++) {
            Thread.onSpinWait();
            if (rt.takePermit()) {
                budget.spun(true);
                return SPIN_WOKEN;
            }
            if (i % SPINS_PER_CLOCK_READ == 0) {
                long now = System.nanoTime();
                if (deadlineNanos != NO_DEADLINE && now - deadlineNanos >= 0) {
                    budget.spun(false);
                    return rt.takePermit() ? SPIN_WOKEN : SPIN_DEADLINE;
                }
                if (rt.thread.isInterrupted()) {
                    if (interruptible) {
                        return SPIN_WOKEN; // the caller consumes the interrupt; the spin's outcome is no evidence
                    }
                    break;
                }
                if (now - start >= nanos) {
                    break;
                }
            }
        }
        budget.spun(false); // the last look is done: from here a wake-up must find PARKED or leave PERMIT
        return SPIN_RAN_OUT;
    }

    /**
     * Announces {@code PARKED} and parks until a wake-up, the deadline or (if {@code interruptible})
     * an interrupt; whether it was not the deadline that ended it.
     */
    private static boolean parkAnnounced(Task self, RealTask rt, long deadlineNanos, boolean interruptible) {
        if (!WAKE.compareAndSet(rt, RUNNING, PARKED)) {
            // The only other value is PERMIT: a wake-up came after the spin's last look. Take it.
            boolean taken = rt.takePermit();
            assert taken : "only the task itself takes its permit";
            return true;
        }
        boolean interrupted = false;
        boolean woken = false;
        try {
            while (true) {
                if (interruptible && rt.thread.isInterrupted()) {
                    return true;
                }
                if (deadlineNanos == NO_DEADLINE) {
                    LockSupport.park(self);
                } else {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    LockSupport.parkNanos(self, left);
                }
                if (rt.takePermit()) {
                    woken = true;
                    return true;
                }
                if (!interruptible && Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            if (!woken) {
                // Leaves PARKED; if a wake-up raced with the ending, its PERMIT stays for the next park.
                WAKE.compareAndSet(rt, PARKED, RUNNING);
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** {@inheritDoc} Here: {@link Thread#interrupt()} of the task's thread. */
    @Override
    public void interrupt(Task task) {
        ((RealTask) platformData(task)).thread.interrupt();
    }

    /** {@inheritDoc} Here: the interrupt status of the task's thread. */
    @Override
    public boolean isInterrupted(Task task) {
        return ((RealTask) platformData(task)).thread.isInterrupted();
    }

    /** {@inheritDoc} Here: {@link Thread#interrupted()}; {@code self} is the calling thread's task. */
    @Override
    protected boolean takeInterrupt(Task self) {
        return Thread.interrupted();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the task's thread is alive, its {@link Thread#getState()} is {@code BLOCKED},
     * {@code WAITING} or {@code TIMED_WAITING}, and it is not inside one of this platform's own waits
     * (checked with a seqlock around the state read, so a thread that enters or leaves a platform
     * wait meanwhile is never misreported).
     */
    @Override
    public boolean isBlockedOutsidePlatform(Task task) {
        if (!(platformData(task) instanceof RealTask rt) || task.hasExited()) {
            return false;
        }
        int before = rt.platformWaitSeq;
        if ((before & 1) != 0) {
            return false;
        }
        Thread.State state = rt.thread.getState();
        boolean blocked = state == Thread.State.BLOCKED || state == Thread.State.WAITING
                || state == Thread.State.TIMED_WAITING;
        return blocked && rt.platformWaitSeq == before;
    }

    /** {@inheritDoc} Here: {@link Thread#getStackTrace()} of the task's thread; empty once it has died. */
    @Override
    public StackTraceElement[] stackOf(Task task) {
        if (!(platformData(task) instanceof RealTask rt)) {
            return new StackTraceElement[0];
        }
        return rt.thread.getStackTrace();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here: the JVM's count of the times the thread blocked on a monitor plus the times it waited
     * or parked ({@link ThreadInfo#getBlockedCount()} + {@link ThreadInfo#getWaitedCount()}), which
     * the JVM keeps whether or not contention monitoring is on; {@code -1} once the thread has died.
     */
    @Override
    public long switchCount(Task task) {
        if (!(platformData(task) instanceof RealTask rt)) {
            return -1;
        }
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(rt.thread.getId(), 0);
        return info == null ? -1 : info.getBlockedCount() + info.getWaitedCount();
    }

    /**
     * Takes the timer lock, marking the caller as waiting inside the platform if it must wait for it,
     * so that {@link #isBlockedOutsidePlatform} does not mistake that wait for a foreign one.
     */
    private void lockTimer() {
        if (timerLock.tryLock()) {
            return;
        }
        Task t = knownTask();
        RealTask rt = t == null ? null : (RealTask) platformData(t);
        boolean marked = rt != null && rt.enterPlatformWait();
        try {
            timerLock.lock();
        } finally {
            if (marked) {
                rt.exitPlatformWait();
            }
        }
    }


    /**
     * {@inheritDoc}
     *
     * <p>Here: one atomic swap of the task's wake-up word to {@code PERMIT}, and an unpark only if it
     * was {@code PARKED}: a task that is running, or spinning before it parks, takes the permit
     * without a system call, as the kernel's {@code try_to_wake_up} only sets a task that has not yet
     * scheduled out back to running ({@code ttwu_runnable}).
     */
    @Override
    public void wake(Task task) {
        RealTask rt = (RealTask) platformData(task);
        if ((int) WAKE.getAndSet(rt, PERMIT) == PARKED) {
            LockSupport.unpark(rt.thread);
        }
    }

    @Override
    public void preemptionPoint() {
        // Real threads are preempted by the operating system.
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    // ---------------------------------------------------------------- timers

    @Override
    public PlatformTimer newTimer(String name, Runnable callback) {
        if (name == null || callback == null) {
            throw new NullPointerException(name == null ? "name" : "callback");
        }
        return new RealTimer(name, callback);
    }

    /** One arming of a timer in the heap; stale once the timer's generation moves on. */
    private static final class Arming implements Comparable<Arming> {
        final long deadline;
        final long seq;
        final RealTimer timer;
        final long generation;

        Arming(long deadline, long seq, RealTimer timer, long generation) {
            this.deadline = deadline;
            this.seq = seq;
            this.timer = timer;
            this.generation = generation;
        }

        @Override
        public int compareTo(Arming o) {
            int c = Long.compare(deadline, o.deadline);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final class RealTimer implements PlatformTimer {
        private final String name;
        private final Runnable callback;
        // Guarded by timerLock.
        private long generation;
        private boolean pending;
        private boolean running;
        private final List<Task> syncWaiters = new ArrayList<>();

        RealTimer(String name, Runnable callback) {
            this.name = name;
            this.callback = callback;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean arm(Duration delay) {
            long deadline = deadlineAfter(delay);
            lockTimer();
            try {
                if (closed) {
                    throw new IllegalStateException("platform " + label + " is closed; cannot arm timer " + name);
                }
                ensureTimerThread();
                boolean was = pending;
                pending = true;
                generation++;
                Arming a = new Arming(deadline, armingSeq++, this, generation);
                heap.add(a);
                if (heap.peek() == a) {
                    timerChanged.signal();
                }
                return was;
            } finally {
                timerLock.unlock();
            }
        }

        @Override
        public boolean cancel() {
            lockTimer();
            try {
                boolean was = pending;
                pending = false;
                generation++;
                return was;
            } finally {
                timerLock.unlock();
            }
        }

        @Override
        public boolean cancelSync() {
            Task self = currentTask();
            boolean was = false;
            // As timer_delete_sync: a callback that re-arms its own timer while we wait for it is
            // disarmed again once it has finished, so on return the timer is neither armed nor running.
            while (true) {
                was |= cancel();
                lockTimer();
                try {
                    if (!running) {
                        return was;
                    }
                    if (self == timerTask) {
                        throw new IllegalStateException("timer " + name + ": cancelSync from its own callback would wait for itself");
                    }
                    syncWaiters.add(self);
                } finally {
                    timerLock.unlock();
                }
                await(timerPrimitive(this), this::notRunning, NO_DEADLINE);
            }
        }

        private boolean notRunning() {
            lockTimer();
            try {
                return !running;
            } finally {
                timerLock.unlock();
            }
        }

        @Override
        public boolean isPending() {
            lockTimer();
            try {
                return pending;
            } finally {
                timerLock.unlock();
            }
        }
    }

    private static Primitive timerPrimitive(PlatformTimer timer) {
        return new Primitive() {
            @Override public String name() { return timer.name(); }
            @Override public String lockClass() { return "timer"; }
            @Override public String kind() { return "timer callback"; }
        };
    }

    /** Starts the timer context on first use. Called with timerLock held. */
    private void ensureTimerThread() {
        if (timerThread != null) {
            return;
        }
        String name = "timer/" + label;
        Task task = newTask(name, false);
        timerTask = task;
        Thread th = new TaskThread(this, task, () -> {
            task.enterAtomic(); // softirq: callbacks may not sleep
            runTask(task, () -> timerLoop((RealTask) platformData(task)), () -> { }); // set before start()
        }, name);
        th.setDaemon(true);
        setPlatformData(task, new RealTask(th, null)); // the timer context parks on its lock's condition
        timerThread = th;
        th.start();
    }

    /** The timer context's body; {@code self} is its own record, with which it marks its waits. */
    private void timerLoop(RealTask self) {
        timerLock.lock();
        try {
            while (!closed) {
                Arming head = heap.peek();
                if (head == null) {
                    self.enterPlatformWait();
                    try {
                        timerChanged.awaitUninterruptibly();
                    } finally {
                        self.exitPlatformWait();
                    }
                    continue;
                }
                if (head.generation != head.timer.generation || !head.timer.pending) {
                    heap.poll(); // re-armed or cancelled since
                    continue;
                }
                long wait = head.deadline - System.nanoTime();
                if (wait > 0) {
                    self.enterPlatformWait();
                    try {
                        timerChanged.awaitNanos(wait);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } finally {
                        self.exitPlatformWait();
                    }
                    continue;
                }
                heap.poll();
                RealTimer timer = head.timer;
                timer.pending = false;
                timer.running = true;
                timerLock.unlock();
                try {
                    beginTimerCallback(timerTask);
                    timer.callback.run();
                } catch (Throwable t) {
                    LOG.log(Level.ERROR, "timer " + timer.name + " callback failed", t);
                } finally {
                    self.enterPlatformWait();
                    try {
                        timerLock.lock();
                    } finally {
                        self.exitPlatformWait();
                    }
                    timer.running = false;
                    for (Task w : timer.syncWaiters) {
                        wake(w);
                    }
                    timer.syncWaiters.clear();
                }
            }
        } finally {
            timerLock.unlock();
        }
    }

    @Override
    public void close() {
        Thread th;
        lockTimer();
        try {
            closed = true;
            heap.clear();
            timerChanged.signalAll();
            th = timerThread;
        } finally {
            timerLock.unlock();
        }
        if (th != null && th != Thread.currentThread()) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "RealPlatform[" + label + "]";
    }
}
