package dev.rescuer.core.wq;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.SleepListener;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.sync.Completion;

import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * A worker thread of a {@link WorkerPool}, or a queue's rescuer, or a CPU's BH pseudo worker: the
 * kernel's {@code struct worker}, with {@code worker_thread()} and {@code process_one_work()}.
 *
 * <p>Flags: {@code IDLE} (on the idle list), {@code PREP} (between items, or managing),
 * {@code CPU_INTENSIVE} and {@code UNBOUND} each exclude the worker from the pool's running count
 * ({@code WORKER_NOT_RUNNING}); transitions into and out of that set adjust the count exactly once.
 * The worker is also the {@link SleepListener} of its task: sleeping in any core primitive while
 * counted as running drops the count and kicks the pool.
 *
 * <p>After each item the worker compares its task's state with the state before the item (atomic
 * depth, held primitives, memalloc scope flags and depth), like {@code process_one_work}'s
 * "BUG: workqueue leaked lock or atomic" check, and restores the scopes and atomic depth; see
 * {@link TaskState}.
 *
 * <p>All fields but {@code kicked}, {@code sleeping} and {@code task} are guarded by the lock of
 * {@link #pool} (PL); the worker reads its own {@code flags} without it where noted. {@code kicked}
 * is volatile: the waker's store before {@code Platform.wake} pairs with the load in the idle
 * sleep's condition. {@code task} is volatile: published once by the creator.
 *
 * <p><b>The wake hook without the pool lock.</b> {@link #sleeping(Task)} runs under the pool lock,
 * as {@code wq_worker_sleeping} does (it may kick). {@link #running(Task)} does not take it, as
 * {@code wq_worker_running} does not: when the sleep it ends was marked by the worker's own sleep
 * hook, nobody else changes the worker's running state until {@code sleeping} is clear again. The
 * CPU-intensive tick ({@link CpuIntensiveTick}) skips a sleeping worker, and while the worker waits
 * inside the platform it is not "blocked outside", so the tick neither marks nor clears it; the
 * flags that exclude it from the count are set by the worker itself, or ({@code CPU_INTENSIVE}) by
 * the tick, only on a worker not sleeping. So the hook writes {@code currentAtNanos}, increments
 * the pool's count if no such flag is set, and then clears the volatile {@code sleeping}: a tick that
 * reads it clear (under the lock, later) also sees the fresh clock and the count it may decrement.
 * A sleep the tick marked (blockedOutside) is ended under the lock, as before.
 */
final class Worker implements SleepListener, Runnable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    static final int IDLE = 1;
    static final int PREP = 1 << 1;
    static final int CPU_INTENSIVE = 1 << 2;
    static final int UNBOUND = 1 << 3;
    static final int DIE = 1 << 4;
    static final int NOT_RUNNING = IDLE | PREP | CPU_INTENSIVE | UNBOUND;
    /** The NOT_RUNNING bits that only the worker itself sets and clears (the tick sets CPU_INTENSIVE). */
    private static final int SELF_OWNED_NOT_RUNNING = IDLE | PREP | UNBOUND;

    /** The pool the worker serves; a rescuer attaches to the pool it is rescuing. Written by the worker itself. */
    WorkerPool pool;
    final int id;                 // I
    final String name;            // I
    final boolean rescuer;        // I
    volatile Task task;           // published once by the creator

    int flags;                    // PL; the worker reads its own SELF_OWNED bits without it
    /**
     * Not counted as running because it sleeps: in a core primitive, or (blockedOutside) outside the
     * platform. Set under PL; cleared under PL, or by the worker itself without it in {@link #running}
     * when its own sleep hook set it.
     */
    volatile boolean sleeping;
    /**
     * The tick found the thread blocked outside the platform and set {@code sleeping} for it. Written
     * under PL; volatile so that the wake hook can read it without the lock (it is never set while the
     * worker's own sleep hook owns the sleep).
     */
    volatile boolean blockedOutside;
    Work currentWork;             // PL; the worker reads its own without it
    PoolWorkqueue currentPwq;     // PL; likewise
    long currentSeq;              // PL
    int currentColor;             // PL
    long currentStartNanos;       // PL
    /** When the worker last started running (an item, or again after a sleep): the CPU-hog clock. */
    long currentAtNanos;          // PL, or by the worker before it clears sleeping in running()
    long lastActiveNanos;         // PL
    /**
     * The run the CPU-intensive tick last found this worker executing (its item and queueing
     * sequence number), for {@link #seenByTick()}; a stale reference is replaced at the next scan
     * that finds the worker busy, and a worker off the busy hash is not scanned.
     */
    private Work tickSeenWork;    // PL
    private long tickSeenSeq;     // PL
    final WorkList scheduled;     // PL
    /** The next worker in this one's bucket of {@code pool.busyHash} while it executes an item ({@code hentry}). */
    Worker hashNext;              // PL
    volatile boolean kicked;      // set by wakers before Platform.wake; cleared by the worker

    private final Primitive idleWait;
    /** Completed as a pool worker's thread body returns; {@code null} for rescuers and BH pseudo workers. */
    private final Completion exited;

    Worker(WorkerPool pool, int id, String name, boolean rescuer) {
        this.pool = pool;
        this.scheduled = new WorkList(pool);
        this.id = id;
        this.name = name;
        this.rescuer = rescuer;
        this.flags = PREP | (pool != null && pool.isUnbound() ? UNBOUND : 0);
        this.idleWait = new IdleWait(name, rescuer ? "rescuer idle" : "worker idle");
        this.exited = pool != null && !rescuer && !pool.bh ? new Completion(pool.platform, name + " exit", "kthread_exit") : null;
    }

    /** Waits until this pool worker, told to die, has exited, no later than {@code deadline}. @return whether it did */
    boolean join(long deadline) {
        Task t = task;
        return t == null || Kthreadd.join(pool.platform, t, exited, deadline);
    }

    /** Wakes the worker ({@code wake_up_process}); callable with raw locks held and in atomic context. */
    void wakeUp() {
        kicked = true;
        Task t = task;
        if (t != null) {
            pool.platform.wake(t);
        }
    }

    /**
     * Sleeps until {@link #wakeUp()}; an idle sleep, which the hung-task detector ignores. A wake-up
     * that arrived while the worker was busy makes it return at once; the caller re-checks the pool.
     */
    void idleSleep(Platform platform) {
        platform.await(idleWait, () -> kicked, Platform.NO_DEADLINE);
        kicked = false;
    }

    /**
     * For the CPU-intensive tick, once per scan of a busy worker: whether the previous scan saw it
     * executing the same run, which has then lasted at least one tick period. Records this scan's
     * sighting. PL.
     */
    boolean seenByTick() {
        assert pool.lock.isHeldByCurrentThread() && currentWork != null;
        boolean seen = tickSeenWork == currentWork && tickSeenSeq == currentSeq;
        tickSeenWork = currentWork;
        tickSeenSeq = currentSeq;
        return seen;
    }

    // ---- flags, with the running count (pool lock held) ----

    void setFlags(int f) {
        assert pool.lock.isHeldByCurrentThread();
        boolean dropped = (f & NOT_RUNNING) != 0 && (flags & NOT_RUNNING) == 0 && !sleeping;
        flags |= f;
        if (dropped) {
            pool.nrRunning.decrementAndGet();
            pool.unwatchIfNobodyComes();
        }
    }

    void clearFlags(int f) {
        assert pool.lock.isHeldByCurrentThread();
        int old = flags;
        flags &= ~f;
        if ((old & NOT_RUNNING) != 0 && (flags & NOT_RUNNING) == 0 && !sleeping) {
            pool.nrRunning.incrementAndGet();
        }
    }

    void enterIdle() {
        assert pool.lock.isHeldByCurrentThread();
        setFlags(IDLE);
        lastActiveNanos = pool.platform.nanoTime();
        pool.idleList.addFirst(this);
        pool.maybeArmIdleTimer();
    }

    private void leaveIdle() {
        assert pool.lock.isHeldByCurrentThread();
        clearFlags(IDLE);
        pool.idleList.remove(this);
    }

    // ---- the sleep hook (wq_worker_sleeping / wq_worker_running) ----

    @Override
    public void sleeping(Task t) {
        WorkerPool p = pool;
        if (p == null || p.bh || (flags & SELF_OWNED_NOT_RUNNING) != 0) {
            return; // idle, preparing or unbound: not counted; only this worker changes these bits
        }
        p.lock.lock();
        try {
            if (sleeping) {
                blockedOutside = false; // the tick saw it blocked; now the platform's hook owns the sleep
                return;
            }
            if ((flags & NOT_RUNNING) != 0) {
                return;
            }
            sleeping = true;
            p.nrRunning.decrementAndGet();
            p.unwatchIfNobodyComes();
            p.kick();
        } finally {
            p.lock.unlock();
        }
    }

    @Override
    public void running(Task t) {
        WorkerPool p = pool;
        if (p == null || p.bh || !sleeping) {
            return; // a sleep the tick marked and this read misses is undone by the next tick
        }
        if (!blockedOutside) {
            // Our own sleep hook marked this sleep: nobody else changes the worker's running state
            // until sleeping is clear again (class comment), so no lock. The flags read racily can
            // differ only in DIE, which others set and which does not exclude from the count.
            currentAtNanos = p.platform.nanoTime();
            if ((flags & NOT_RUNNING) == 0) {
                p.nrRunning.incrementAndGet();
            }
            sleeping = false;
            return;
        }
        p.lock.lock(); // the tick marked it and may clear it itself: settle it under the lock
        try {
            if (sleeping) {
                wakeUpCounted(p);
            }
        } finally {
            p.lock.unlock();
        }
    }

    /** Ends a sleep (in the platform, or found by the tick outside it): counts the worker running again. PL. */
    private void wakeUpCounted(WorkerPool p) {
        sleeping = false;
        blockedOutside = false;
        currentAtNanos = p.platform.nanoTime();
        if ((flags & NOT_RUNNING) == 0) {
            p.nrRunning.incrementAndGet();
        }
    }

    /**
     * The tick found the worker's thread blocked outside the platform (a JDK lock, a latch, socket
     * I/O): treat it as sleeping, as {@code wq_worker_sleeping} would, and wake another worker. PL.
     *
     * @return whether it was counted as running until now
     */
    boolean markBlockedOutside() {
        assert pool.lock.isHeldByCurrentThread();
        if (sleeping || (flags & NOT_RUNNING) != 0) {
            return false;
        }
        sleeping = true;
        blockedOutside = true;
        pool.nrRunning.decrementAndGet();
        pool.unwatchIfNobodyComes();
        pool.kick();
        return true;
    }

    /**
     * The tick found the worker running again after {@link #markBlockedOutside()}: count it again,
     * as {@code wq_worker_running} would. PL.
     */
    void clearBlockedOutside() {
        assert pool.lock.isHeldByCurrentThread();
        if (blockedOutside) {
            wakeUpCounted(pool);
        }
    }

    // ---- worker_thread ----

    /**
     * The body of a pool worker's thread ({@code worker_thread}). The worker itself is the body its
     * thread is started with, as {@code create_worker} hands the worker to
     * {@code kthread_create_on_node}, so that a platform can tell a pool worker's start from any
     * other ({@link Workqueues#startsPoolWorker}).
     */
    @Override
    public void run() {
        Kthreadd.runThenSignal(this::workerThread, exited);
    }

    private void workerThread() {
        Platform platform = pool.platform;
        Task self = platform.currentTask();
        self.setKthreadData(this);
        self.setSleepListener(this);
        idleSleep(platform); // until createWorker has registered and woken us
        WorkerPool p = pool;
        p.lock.lock();
        try {
            workerLoop(platform, p);
        } finally {
            // The loop holds the pool lock across calls, as worker_thread does; whatever ends it (DIE,
            // a tear-down, a bug in the runtime) must not leave the lock held for the next task.
            p.lock.unlockIfHeldByCurrentThread();
        }
    }

    /** {@code worker_thread}'s loop: entered with the pool lock held, left with it held on DIE. */
    private void workerLoop(Platform platform, WorkerPool p) {
        while (true) {
            if ((flags & DIE) != 0) {
                return;
            }
            leaveIdle();
            p.drainInboxes(true, p.advanceTickClock(platform.nanoTime()));
            while (p.needMoreWorker()) {
                if (!p.mayStartWorking() && manageWorkers()) {
                    continue; // the lock was dropped; recheck
                }
                clearFlags(PREP);
                // Once per batch; then each item's end is the next one's start (processOneWork).
                long now = p.advanceTickClock(platform.nanoTime());
                do {
                    Work w = p.worklist.first();
                    if (!deferToCollision(w)) {
                        now = processOneWork(w, now); // straight off the worklist, as before assign_work
                        if (!scheduled.isEmpty()) {
                            now = processScheduledWorks(now); // what collided with it meanwhile
                        }
                    }
                    if (p.worklist.isEmpty()) {
                        p.drainInboxes(true, now); // what producers pushed meanwhile, before deciding to go on
                    }
                } while (p.keepWorking());
                setFlags(PREP);
                break;
            }
            enterIdle();
            p.unwatchIfNobodyComes(); // this worker no longer comes back for the watched inboxes
            if (p.needMoreWorker()) {
                continue; // items linked as this worker stopped running: take them (the kick may have found nobody)
            }
            p.lock.unlock();
            idleSleep(platform);
            p.lock.lock();
        }
    }

    /**
     * Becomes the pool's manager and creates workers until one is idle ({@code manage_workers} and
     * {@code maybe_create_worker}). Lock held on entry and on normal exit; dropped meanwhile.
     *
     * @return {@code false} if another worker is already managing
     */
    private boolean manageWorkers() {
        WorkerPool p = pool;
        if (p.managerActive()) {
            return false;
        }
        p.manager = this;
        try {
            WorkqueueConfig cfg = p.sys.config();
            do {
                p.lock.unlock();
                // An exception here leaves without the lock; workerThread's unwinding copes with both.
                p.maydayTimer.arm(cfg.maydayInitial());
                while (p.createWorker() == null && needToCreateLocked(p) && !dying()) {
                    cooldown(cfg.createCooldown());
                    if (!needToCreateLocked(p)) {
                        break;
                    }
                }
                p.maydayTimer.cancelSync();
                p.lock.lock();
            } while (p.needToCreateWorker() && (flags & DIE) == 0);
        } finally {
            p.manager = null;
        }
        return true;
    }

    private boolean dying() {
        pool.lock.lock();
        try {
            return (flags & DIE) != 0;
        } finally {
            pool.lock.unlock();
        }
    }

    private static boolean needToCreateLocked(WorkerPool p) {
        p.lock.lock();
        try {
            return p.needToCreateWorker();
        } finally {
            p.lock.unlock();
        }
    }

    private void cooldown(Duration d) {
        Platform platform = pool.platform;
        platform.await(COOLDOWN, () -> false, platform.deadlineAfter(d));
    }

    private static final Primitive COOLDOWN = new Primitive() {
        @Override public String name() { return "create_cooldown"; }
        @Override public String kind() { return "worker creation cooldown"; }
    };

    /**
     * Moves {@code work} from the worklist to this worker's scheduled list, unless another worker of
     * the pool is executing it, in which case it goes to that worker's list to run after the current
     * run: the collision rule that makes items non-reentrant ({@code assign_work}). For the rescuer
     * and the BH context; a pool worker's loop takes the direct path ({@link #deferToCollision}).
     * Lock held; the worker executes nothing now.
     *
     * @return whether the item was assigned to this worker
     */
    boolean assignWork(Work work) {
        if (deferToCollision(work)) {
            return false;
        }
        work.list.remove(work);
        scheduled.append(work);
        return true;
    }

    /**
     * Moves {@code work} from the worklist to the scheduled list of the worker of the pool that is
     * executing it, if there is one, to run after that run: the collision rule that makes items
     * non-reentrant, without {@link #assignWork}'s hop through this worker's own list when there is
     * no collision (the worker loop then runs the item straight off the worklist, as
     * {@code worker_thread} did before {@code assign_work}: the item is on some list and PENDING
     * until {@link #processOneWork} takes it off under the same lock hold, so nothing can tell the
     * two paths apart). Lock held; the worker executes nothing now.
     *
     * @return whether it went to the colliding worker
     */
    private boolean deferToCollision(Work work) {
        assert pool.lock.isHeldByCurrentThread() && currentWork == null;
        Worker collision = pool.busyHash.find(work);
        if (collision == null) {
            return false;
        }
        work.list.remove(work);
        collision.scheduled.append(work);
        return true;
    }

    /**
     * Runs the scheduled list empty. Lock held on entry and exit.
     *
     * @param now the platform time, read with no scheduling point since (under the lock held)
     * @return the platform time read as the lock was last taken, for the caller's next item
     */
    long processScheduledWorks(long now) {
        Work w;
        while ((w = scheduled.first()) != null) {
            now = processOneWork(w, now);
        }
        return now;
    }

    /**
     * Runs one item ({@code process_one_work}): the pool hands it over (busy hash, PENDING cleared),
     * the item runs without the lock, the task's state is checked for leaks, and the item's pwq
     * accounts for it. Lock held on entry and exit; dropped around the run.
     *
     * <p>The item's start stamps ({@code current_at}, the watchdog's progress, the dumps' start) are
     * {@code now}, and the time returned is the next item's. On a per-CPU pool that is the pool's
     * {@linkplain WorkerPool#tickClock() tick clock} as the lock is taken back, so no clock is read per
     * item: a stamp is early by at most one tick period, as the kernel's {@code current_at}
     * ({@code sum_exec_runtime}, brought up to date at the scheduler tick) and {@code watchdog_ts}
     * ({@code jiffies}) are. Elsewhere (unbound pools, BH contexts and rescuers, which the tick does
     * not visit) the clock is read just before the lock is taken back: no scheduling point lies
     * between the two, so a simulator sees the same time, and on real threads the next start is
     * early by the bookkeeping only.
     *
     * @param now the start stamp: the platform time read with no scheduling point since, or the
     *     pool's tick clock
     * @return the next item's start stamp
     */
    private long processOneWork(Work work, long now) {
        WorkerPool p = pool;
        Platform platform = p.platform;
        PoolWorkqueue pwq = work.pwq;
        work.list.remove(work); // the scheduled list, or the worklist on the loop's direct path
        currentWork = work;
        p.busyHash.add(work, this);
        currentPwq = pwq;
        currentSeq = work.queueSeq();
        currentColor = work.color();
        currentStartNanos = now;
        currentAtNanos = now;
        p.lastProgressNanos = now;
        if (pwq.wq.isCpuIntensive() && !rescuer && !p.bh) {
            setFlags(CPU_INTENSIVE);
        }
        if (p.needMoreWorker()) {
            p.kick(); // unbound and CPU-intensive pools: let another worker take the rest
        }
        work.clearPending(); // queueing it again now succeeds, and lands in this pool
        boolean watched = !p.bh && !rescuer && !p.isUnbound();
        p.lock.unlock();
        if (watched) {
            // Busy (in the busy hash) before the tick's flag is read: see CpuIntensiveTick.
            platform.preemptionPoint();
            p.tick.ensureArmed();
        }

        Task self = task; // set before the worker could be handed any item
        TaskState before = TaskState.of(self);
        WqEvents.Execute ev = WqEvents.beginExecute(pwq.wq.name(), work.name(), name, rescuer);
        LockEvents lockEvents = platform.lockEvents();
        if (lockEvents != null) {
            pwq.wq.lockdepBeginItem(lockEvents, self, work, p.bh);
        }
        try {
            if (p.bh) {
                self.enterAtomic();
            }
            try {
                work.run();
            } finally {
                if (p.bh) {
                    self.exitAtomic();
                }
            }
        } catch (TaskAbortedError aborted) {
            throw aborted; // the platform is tearing this task down: not the item's failure
        } catch (Throwable t) {
            p.stats.workFailures.increment();
            LOG.log(Level.ERROR, "work " + work.name() + " on workqueue " + pwq.wq.name() + " failed in " + name, t);
            pwq.wq.reportFailure(work, t, self, p.bh, name);
        }
        if (lockEvents != null) {
            pwq.wq.lockdepEndItem(lockEvents, self, work);
        }
        WqEvents.endExecute(ev);
        if (!before.sameAs(self)) {
            p.stats.leaks.increment();
            LOG.log(Level.ERROR, before.leakReport(self, name, work.name(), pwq.wq.name()));
            before.restoreScopesAndAtomic(self);
        }

        long end = relock(p, watched);
        if ((flags & CPU_INTENSIVE) != 0) {
            clearFlags(CPU_INTENSIVE);
        }
        if (sleeping) {
            // It is running: it just finished the item. Still marked sleeping only if the tick saw it
            // blocked outside the platform, or the item left a Blocking region open.
            wakeUpCounted(p);
        }
        p.busyHash.remove(work, this);
        currentWork = null;
        currentPwq = null;
        p.nrExecuted++;
        boolean wakeFlusher = pwq.decNrInFlight(currentColor, true);
        // Done up to this run; and if the item is not queued again, up to its last queueing, which
        // was then cancelled while this run was going on.
        boolean lastWasCancelled = work.list == null && work.pwq == pwq;
        work.doneSeq = Math.max(work.doneSeq, lastWasCancelled ? Math.max(currentSeq, work.queueSeq()) : currentSeq);
        if (wakeFlusher || work.flushWait != null) {
            p.lock.unlock();
            if (wakeFlusher) {
                pwq.wq.wakeFlushers();
            }
            work.wakeFlushers();
            end = relock(p, watched);
        }
        return end;
    }

    /**
     * Takes the pool lock back after the unlocked part of {@link #processOneWork} and returns the next
     * item's start stamp: the pool's tick clock on a pool the CPU-intensive tick visits
     * ({@code watched}), else the platform time read just before the lock, with no scheduling point
     * between the two.
     */
    private static long relock(WorkerPool p, boolean watched) {
        if (watched) {
            p.lock.lock();
            return p.tickClock();
        }
        long now = p.platform.nanoTime();
        p.lock.lock();
        return now;
    }

    @Override
    public String toString() {
        return name;
    }
}
