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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The platform on JVM threads: tasks are platform threads, sleeping is {@link LockSupport#park}, the
 * clock is {@link System#nanoTime()}.
 *
 * <p><b>Wake-ups.</b> Each task has a one-bit permit. {@link #wake} sets it and unparks the thread;
 * {@code park} consumes it and sleeps only when it was clear. That is the kernel's
 * "set state, check condition, schedule()" protocol: a wake between the condition check and the sleep
 * is not lost. {@code LockSupport}'s own spurious returns are absorbed here.
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
 * <p><b>Memory ordering.</b> A wake sets the task's atomic permit and then unparks; park consumes the
 * permit with {@code getAndSet(false)} before and after every {@code LockSupport.park}, so the
 * permit's atomic pair orders the waker's writes (the condition's state) before the woken task's
 * re-check, and a wake that comes first is never lost; that pair is the only fenced operation a
 * sleep and a wake add to {@code LockSupport}'s (the task record's wait fields are release stores).
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

    /** Per-task state of this platform: the JVM thread, the wake-up permit, the in-platform mark. */
    private static final class RealTask {
        final Thread thread;
        /** The one-bit wake-up permit: set by any waker, consumed by the task in {@code park}. */
        final AtomicBoolean permit = new AtomicBoolean();
        /**
         * Odd while the thread waits inside the platform (its park, the timer context's own waits, the
         * timer lock), even otherwise; written only by the thread itself, read by any task. A seqlock:
         * a reader that sees the same even value before and after reading the thread's JVM state knows
         * that state was not caused by a platform wait.
         */
        volatile int platformWaitSeq;

        RealTask(Thread thread) {
            this.thread = thread;
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
    }

    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(RealTask.class, "platformWaitSeq", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Creates a platform on JVM threads. */
    public RealPlatform() {
        this.label = "real@" + Integer.toHexString(System.identityHashCode(this));
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
        setPlatformData(t, new RealTask(th));
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
        setPlatformData(task, new RealTask(thread));
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
     * <p>Here: an uninterruptible sleep takes a pending {@code Thread} interrupt out of the way (it
     * would make every later {@code LockSupport.park} return at once and this loop spin) and sets it
     * again on the way out; an interruptible one returns as if woken when the thread is interrupted,
     * leaving the interrupt set for {@link #takeInterrupt} to consume.
     */
    @Override
    protected boolean park(Task self, long deadlineNanos, boolean interruptible) {
        RealTask rt = (RealTask) platformData(self);
        boolean interrupted = false;
        boolean marked = rt.enterPlatformWait();
        try {
            while (!rt.permit.getAndSet(false)) {
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
                if (!interruptible && Thread.interrupted()) {
                    interrupted = true;
                }
            }
            return true;
        } finally {
            if (marked) {
                rt.exitPlatformWait();
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


    @Override
    public void wake(Task task) {
        RealTask rt = (RealTask) platformData(task);
        if (!rt.permit.getAndSet(true)) {
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
        setPlatformData(task, new RealTask(th));
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
