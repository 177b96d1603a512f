package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.RawSpinLock;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pool of workers serving one CPU at one priority, or the unbound pool of a priority, or a CPU's BH
 * context: the kernel's {@code worker_pool}.
 *
 * <p><b>Concurrency management.</b> A per-CPU pool counts its <em>running</em> workers
 * ({@code nrRunning}): those executing an item and not sleeping in a core primitive, not
 * {@code CPU_INTENSIVE}, not idle or preparing. It aims at one: an idle worker is woken only when items
 * wait and none runs ({@link #needMoreWorker()}), and a worker keeps taking items only while it is the
 * only running one ({@link #keepWorking()}). When a running worker sleeps, the platform's sleep hook
 * ({@link Worker#sleeping}) drops the count and wakes an idle worker, under the pool lock as
 * {@code wq_worker_sleeping} does; the wake hook ({@link Worker#running}) counts it again without the
 * lock, as {@code wq_worker_running} does. A kick wakes only the first idle worker, and not again while
 * that one is already on its way ({@code kick_pool}: waking a task that is already runnable does
 * nothing). Unbound pools flag every worker {@code UNBOUND}, so their count stays zero and every
 * waiting item gets a worker.
 *
 * <p><b>Worker creation.</b> The pool keeps one idle worker in reserve: a worker that leaves idle
 * while no other is idle first becomes the pool's manager and creates one, through the system's
 * kthreadd task, which pays for the thread in pages. If that blocks or fails, the manager retries
 * every {@code createCooldown}, and the mayday timer, armed for {@code maydayInitial} and then every
 * {@code maydayInterval}, calls the rescuers of the memory-reclaim queues whose items wait here.
 *
 * <p><b>Idle reaping.</b> With more than two idle workers and at least four busy workers per extra
 * idle one ({@code too_many_workers}), the idle timer retires workers idle longer than
 * {@code idleTimeout}, oldest first.
 *
 * <p>Locking legend: {@code PL} = guarded by {@link #lock}, a raw spin lock never held across a sleep
 * (the predicates and mutators assert it with assertions on); {@code I} = set at construction.
 * Derived counts are computed, not stored: the number of workers is {@code workers.size()}, of idle
 * ones {@code idleList.size()}, and a manager is active when {@code manager != null}.
 *
 * <p>Memory ordering. A {@link Worker}'s {@code kicked} flag is volatile and pairs the
 * waker's store (then {@code Platform.wake}) with the sleeper's load in its await condition.
 * {@link #nrRunning} is atomic because one change happens without the lock: a worker waking from a
 * sleep increments it from its own thread. That increment pairs with the queue path's check
 * ({@link #needMoreWorker()} under the lock, after appending the item): either the queue path reads
 * the incremented count, and the woken worker, which goes back to the worklist under the lock when
 * its item ends, finds the new item there; or it reads the count from before, sees no running
 * worker and kicks an idle one, which at worst finds nothing to do and goes idle again. No item is
 * left waiting with no worker on its way. An item pushed onto a pwq's lock-free inbox without the
 * lock is left there only while {@link #workerComing()} held under the lock, and every place that
 * may end that re-decides under the lock ({@link #unwatchIfNobodyComes()}); see
 * {@link PoolWorkqueue}. The sleep hook's decrement happens under the lock, before
 * its own {@link #kick()}, so a queue path that ran before it left its item on the worklist for that
 * kick to see, and one that runs after it reads the decremented count and kicks itself. The worker's
 * {@code sleeping} flag, volatile, orders the wake hook's lock-free writes against the CPU-intensive
 * tick: see {@link Worker}. Everything else is read and written under {@link #lock}, whose
 * release/acquire orders it.
 */
final class WorkerPool {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    final Workqueues sys;                    // I
    final Platform platform;                 // I
    /** The subsystem's counters and CPU-intensive tick, reached without going through {@link #sys}. */
    final Workqueues.Stats stats;            // I
    final CpuIntensiveTick tick;             // I
    final int id;                            // I
    final int cpu;                           // I; -1 for the unbound pools
    final boolean highpri;                   // I
    final boolean bh;                        // I
    private final String name;               // I

    final RawSpinLock lock = new RawSpinLock();
    final WorkList worklist = new WorkList(this);                     // PL
    final ArrayDeque<Worker> idleList = new ArrayDeque<>();           // PL; most recently idle first
    /** Items being executed, and who runs them ({@code busy_hash}). */
    final BusyHash busyHash = new BusyHash();                         // PL
    final List<Worker> workers = new ArrayList<>();                   // PL
    /** Workers told to die by the idle timer that may still be exiting; pruned at each reap. */
    private final List<Worker> reaped = new ArrayList<>();            // PL
    /**
     * Workers counted as running (concurrency management's {@code nr_running}). Changed under
     * {@link #lock}, except by a worker's own wake hook ({@link Worker#running}), which increments it
     * without the lock, as {@code wq_worker_running} does; read under the lock. See the class comment.
     */
    final AtomicInteger nrRunning = new AtomicInteger();              // PL for every change but the wake hook's increment
    /**
     * The pwqs whose inbox may be {@link PoolWorkqueue#WATCHED} (a superset): the worker loop drains
     * them; emptied, each inbox set back to {@code null}, once no worker is coming
     * ({@link #unwatchIfNobodyComes()}).
     */
    final List<PoolWorkqueue> watched = new ArrayList<>();            // PL
    /** The worker creating workers for the pool ({@code pool->manager}), or {@code null}. */
    Worker manager;                                                   // PL
    /** Set by {@link #stopAll()}: a worker created from then on is told to die at once. */
    private boolean stopped;                                          // PL
    /** Successful queueings onto this pool ({@link WorkqueueStats#queued()}'s share). */
    long nrQueued;                                                    // PL
    /** Items run on this pool, by its workers, a rescuer or its BH context ({@link WorkqueueStats#workExecuted()}'s share). */
    long nrExecuted;                                                  // PL
    /** Platform time of the last forward progress, for the watchdog and the dumps (both read it under the lock). */
    long lastProgressNanos;                                           // PL
    /**
     * The pool's tick clock, what {@code jiffies} is to a per-CPU pool's items: the platform time as
     * last read under this lock by a worker at the top of its loop or at the start of a batch, or by
     * the CPU-intensive tick, which refreshes it every period while an item runs. A per-CPU pool's
     * worker stamps each item's start ({@code current_at}, the dumps' "running for") and the
     * watchdog's progress with it rather than reading the clock per item, so a stamp is early by at
     * most the time since the last tick, as the kernel's are: {@code current_at} is the task's
     * {@code sum_exec_runtime}, brought up to date at the scheduler tick and at switches, and
     * {@code watchdog_ts} is {@code jiffies}. Only moves forward. Stamps taken elsewhere from the
     * platform's clock (the locked queueing path's, a rescuer's) can be ahead of it, so the pool's
     * progress stamp may step back by up to one tick period when a worker's follows; the watchdog's
     * cap on the period ({@link CpuIntensiveTick#period}) covers that too.
     */
    private long tickClockNanos;                                      // PL

    final PlatformTimer maydayTimer;         // I
    final PlatformTimer idleTimer;           // I
    private final AtomicInteger nextWorkerId = new AtomicInteger();
    private boolean creationFailureWarned;                            // PL

    /** For a BH pool: the pseudo worker that the CPU's softirq task runs items as. */
    final Worker bhWorker;

    WorkerPool(Workqueues sys, CpuIntensiveTick tick, int id, int cpu, boolean highpri, boolean bh) {
        this.sys = sys;
        this.platform = sys.platform();
        this.stats = sys.stats;
        this.tick = tick;
        this.id = id;
        this.cpu = cpu;
        this.highpri = highpri;
        this.bh = bh;
        this.name = (cpu < 0 ? "unbound" : "cpu" + cpu) + (bh ? "-bh" : "") + (highpri ? "-hi" : "");
        this.maydayTimer = platform.newTimer("mayday/" + name, this::maydayTimeout);
        this.idleTimer = platform.newTimer("idle/" + name, this::idleTimeout);
        this.lastProgressNanos = platform.nanoTime();
        this.tickClockNanos = lastProgressNanos;
        this.bhWorker = bh ? new Worker(this, -1, "bh/" + name, false) : null;
    }

    String name() {
        return name;
    }

    /** The {@linkplain #tickClockNanos tick clock}. PL. */
    long tickClock() {
        assert lock.isHeldByCurrentThread();
        return tickClockNanos;
    }

    /**
     * Brings the {@linkplain #tickClockNanos tick clock} up to {@code now}, a platform time read by
     * the caller, unless a later reading got there first. PL.
     *
     * @return {@code now}
     */
    long advanceTickClock(long now) {
        assert lock.isHeldByCurrentThread();
        if (now - tickClockNanos > 0) {
            tickClockNanos = now;
        }
        return now;
    }

    /** The pool's attributes in the kernel's dump style, for example {@code "2: cpus=0 nice=-20"}. */
    String describe() {
        return id + ": cpus=" + (cpu < 0 ? "unbound" : String.valueOf(cpu)) + (bh ? " bh" + (highpri ? "-hi" : "") : " nice=" + (highpri ? -20 : 0));
    }

    boolean isUnbound() {
        return cpu < 0;
    }

    // ---- the kernel's predicates; call with lock held ----

    /** Items wait and no worker runs: wake one ({@code need_more_worker}). */
    boolean needMoreWorker() {
        assert lock.isHeldByCurrentThread();
        return !worklist.isEmpty() && nrRunning.get() == 0;
    }

    /** An idle worker is available ({@code may_start_working}). */
    boolean mayStartWorking() {
        assert lock.isHeldByCurrentThread();
        return !idleList.isEmpty();
    }

    /** A worker may take another item ({@code keep_working}). */
    boolean keepWorking() {
        assert lock.isHeldByCurrentThread();
        return !worklist.isEmpty() && nrRunning.get() <= 1;
    }

    /** A worker is needed and none is idle ({@code need_to_create_worker}). */
    boolean needToCreateWorker() {
        return needMoreWorker() && !mayStartWorking();
    }

    /** Whether a worker is creating workers for the pool right now. PL. */
    boolean managerActive() {
        assert lock.isHeldByCurrentThread();
        return manager != null;
    }

    /** Live workers, idle or busy, rescuers not counted. PL. */
    int nrWorkers() {
        assert lock.isHeldByCurrentThread();
        return workers.size();
    }

    private boolean tooManyWorkers() {
        int idle = idleList.size() + (manager != null ? 1 : 0);
        int busy = workers.size() - idle;
        return idle > 2 && (idle - 2) * 4 >= busy;
    }

    /**
     * Puts an active item on the worklist and wakes a worker if one is needed ({@code insert_work}
     * plus {@code kick_pool}). PL.
     *
     * @param now the platform time, read with no scheduling point since: the watchdog's progress
     *     stamp if the worklist was empty ({@code __queue_work}'s {@code watchdog_ts = jiffies})
     */
    void insertWork(Work work, long now) {
        appendWork(work, now);
        kick();
    }

    /** {@link #insertWork} without the kick, for a worker that will look at the worklist itself next. PL. */
    void appendWork(Work work, long now) {
        assert lock.isHeldByCurrentThread();
        if (worklist.isEmpty()) {
            lastProgressNanos = now;
        }
        worklist.append(work);
    }

    /**
     * Moves the items pushed onto every watched inbox onto the worklist (or inactive lists); for the
     * mayday timer, the watchdog, the dumps and the statistics, which read the pool's items. PL.
     */
    void drainInboxes() {
        drainInboxes(false, platform.nanoTime());
    }

    /**
     * {@link #drainInboxes()}, or with {@code byWorkerLoop} by a worker in its loop, which looks at
     * the worklist next and, if it then goes idle, first re-decides ({@link #unwatchIfNobodyComes()}):
     * it counts as coming, so the inboxes stay watched, and it kicks nobody for what it links, as a
     * kicked worker on its way is not woken again. PL.
     *
     * @param now the platform time, read with no scheduling point since: the watchdog's stamp if an
     *     item lands on an empty worklist
     */
    void drainInboxes(boolean byWorkerLoop, long now) {
        assert lock.isHeldByCurrentThread();
        for (int i = 0; i < watched.size(); i++) {
            watched.get(i).drainInbox(byWorkerLoop, now);
        }
    }

    /**
     * Whether a worker will take this lock again and look at the pool's items before it sleeps: one
     * is counted as running (it comes back after its item, or drops the count under the lock), or
     * the first idle one, the one {@link #kick()} wakes, has been kicked and not yet left the idle
     * list (it runs the loop's top, which drains). Only the first is looked at, with no iterator: a
     * kicked worker further down the list is missed, which only makes producers take the lock. What
     * a {@link PoolWorkqueue#WATCHED} inbox relies on. PL.
     */
    boolean workerComing() {
        assert lock.isHeldByCurrentThread();
        if (nrRunning.get() > 0) {
            return true;
        }
        Worker first = idleList.peekFirst();
        return first != null && first.kicked;
    }

    /**
     * Called wherever {@link #workerComing()} may have become false (every decrement of
     * {@link #nrRunning}, all under the lock; a worker entering idle; a reap): then nobody will drain
     * the watched inboxes, so set them back to {@code null}, linking what they hold (which kicks); a
     * push from then on drains and kicks itself. PL.
     */
    void unwatchIfNobodyComes() {
        assert lock.isHeldByCurrentThread();
        if (!watched.isEmpty() && !workerComing()) {
            for (int i = 0; i < watched.size(); i++) {
                watched.get(i).unwatch();
            }
            watched.clear();
        }
    }

    /** Wakes the most recently idle worker if one is needed ({@code kick_pool}). PL. */
    void kick() {
        assert lock.isHeldByCurrentThread();
        if (bh) {
            if (!worklist.isEmpty()) {
                sys.raiseSoftirq(cpu);
            }
            return;
        }
        if (!needMoreWorker()) {
            return;
        }
        Worker w = idleList.peekFirst();
        if (w != null && !w.kicked) {
            w.wakeUp(); // a kicked worker still on the idle list is on its way: waking it again does nothing
        }
    }

    /** The busy workers in name order: the busy hash iterates in identity order, which a replay must not show. PL. */
    List<Worker> busyWorkersByName() {
        assert lock.isHeldByCurrentThread();
        List<Worker> busy = busyHash.workers();
        busy.sort((a, b) -> a.name.compareTo(b.name));
        return busy;
    }

    boolean isExecuting(Work work) {
        lock.lock();
        try {
            return busyHash.contains(work);
        } finally {
            lock.unlock();
        }
    }

    // ---- worker creation ----

    /** Starts the pool's first worker. */
    void start() {
        if (!bh && createWorker() == null) {
            throw new ThreadStartException("workqueue pool " + name + ": cannot create its first worker");
        }
    }

    /**
     * Creates a worker through kthreadd and puts it on the idle list ({@code create_worker}). Called
     * without the lock; may block in the creator's reclaim.
     *
     * @return the worker, or {@code null} if creation failed
     */
    Worker createWorker() {
        int wid = nextWorkerId.getAndIncrement();
        String wname = isUnbound() ? "kworker/u" + id + ":" + wid + (highpri ? "H" : "")
                : "kworker/" + cpu + ":" + wid + (highpri ? "H" : "");
        Worker w = new Worker(this, wid, wname, false);
        try {
            w.task = sys.kthreadd().create(wname, w); // the worker is its body: see Workqueues.startsPoolWorker
        } catch (ThreadStartException e) {
            stats.workerCreationFailures.increment();
            WqEvents.creationFailed(name, e.getMessage());
            boolean warn;
            lock.lock();
            try {
                warn = !creationFailureWarned;
                creationFailureWarned = true;
            } finally {
                lock.unlock();
            }
            if (warn) {
                LOG.log(Level.WARNING, "workqueue: Failed to create a worker thread for pool " + name + ": " + e.getMessage());
            }
            return null;
        }
        stats.workersCreated.increment();
        boolean late;
        lock.lock();
        try {
            late = stopped;
            if (late) {
                w.flags |= Worker.DIE; // stopAll() has run: nobody else will tell it to die or join it
            } else {
                workers.add(w);
                w.enterIdle();
            }
            w.wakeUp();
        } finally {
            lock.unlock();
        }
        if (late) {
            w.join(Platform.NO_DEADLINE); // it exits at once; its thread's pages go back as it does
            return null;
        }
        return w;
    }

    // ---- timers (atomic context) ----

    /** Calls the rescuers of every queue with items waiting here, then re-arms ({@code pool_mayday_timeout}). */
    private void maydayTimeout() {
        lock.lock();
        try {
            drainInboxes();
            if (needToCreateWorker()) {
                for (Work w = worklist.first(); w != null; w = w.next) {
                    w.pwq.wq.sendMayday(w.pwq);
                }
            }
        } finally {
            lock.unlock();
        }
        maydayTimer.arm(sys.config().maydayInterval());
    }

    /** Retires workers idle longer than the timeout while there are too many ({@code idle_cull_fn}). */
    private void idleTimeout() {
        long now = platform.nanoTime();
        long timeout = sys.config().idleTimeout().toNanos();
        lock.lock();
        try {
            reaped.removeIf(w -> w.task == null || w.task.hasExited());
            while (tooManyWorkers()) {
                Worker w = idleList.peekLast();
                long idleFor = now - w.lastActiveNanos;
                if (idleFor < timeout) {
                    idleTimer.arm(java.time.Duration.ofNanos(timeout - idleFor));
                    break;
                }
                idleList.pollLast();
                workers.remove(w);
                w.flags |= Worker.DIE;
                w.wakeUp();
                reaped.add(w);
                stats.workersReaped.increment();
            }
            unwatchIfNobodyComes(); // a reaped worker is no longer on the idle list
        } finally {
            lock.unlock();
        }
    }

    /** Arms the idle timer if there are too many idle workers. PL. */
    void maybeArmIdleTimer() {
        assert lock.isHeldByCurrentThread();
        if (tooManyWorkers() && !idleTimer.isPending()) {
            idleTimer.arm(sys.config().idleTimeout());
        }
    }

    /**
     * Asks every worker to exit (system shutdown); returns them, with any still exiting after a reap.
     * A worker whose creation finishes after this call is told to die by {@link #createWorker()}.
     */
    List<Worker> stopAll() {
        lock.lock();
        try {
            stopped = true;
            List<Worker> all = new ArrayList<>(workers);
            all.addAll(reaped);
            reaped.clear();
            for (Worker w : all) {
                w.flags |= Worker.DIE;
                w.wakeUp();
            }
            workers.clear();
            idleList.clear();
            return all;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "pool " + id + " (" + name + ")";
    }
}
