package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.RawSpinLock;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
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
 * ({@link Worker#sleeping}) drops the count and wakes an idle worker. Unbound pools flag every
 * worker {@code UNBOUND}, so their count stays zero and every waiting item gets a worker.
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
 * <p>Everything is guarded by {@link #lock}, a raw spin lock never held across a sleep.
 */
final class WorkerPool {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    final Workqueues sys;
    final Platform platform;
    final int id;
    final int cpu;
    final boolean highpri;
    final boolean bh;
    private final String name;

    final RawSpinLock lock = new RawSpinLock();
    final WorkList worklist = new WorkList(this);
    final ArrayDeque<Worker> idleList = new ArrayDeque<>(); // most recently idle first
    /** Items being executed, by identity, and who runs them ({@code busy_hash}). */
    final IdentityHashMap<Work, Worker> busyHash = new IdentityHashMap<>();
    final List<Worker> workers = new ArrayList<>();
    /** Workers told to die by the idle timer that may still be exiting; pruned at each reap. */
    private final List<Worker> reaped = new ArrayList<>();
    int nrWorkers;
    int nrIdle;
    int nrRunning;
    boolean managerActive;
    Worker manager;
    /** Platform time of the last forward progress, for the watchdog. */
    volatile long lastProgressNanos;

    final PlatformTimer maydayTimer;
    final PlatformTimer idleTimer;
    private final AtomicInteger nextWorkerId = new AtomicInteger();
    private boolean creationFailureWarned;

    /** For a BH pool: the pseudo worker that the CPU's softirq task runs items as. */
    final Worker bhWorker;

    WorkerPool(Workqueues sys, int id, int cpu, boolean highpri, boolean bh) {
        this.sys = sys;
        this.platform = sys.platform();
        this.id = id;
        this.cpu = cpu;
        this.highpri = highpri;
        this.bh = bh;
        this.name = (cpu < 0 ? "unbound" : "cpu" + cpu) + (bh ? "-bh" : "") + (highpri ? "-hi" : "");
        this.maydayTimer = platform.newTimer("mayday/" + name, this::maydayTimeout);
        this.idleTimer = platform.newTimer("idle/" + name, this::idleTimeout);
        this.lastProgressNanos = platform.nanoTime();
        this.bhWorker = bh ? new Worker(this, -1, "bh/" + name, false) : null;
    }

    String name() {
        return name;
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
        return !worklist.isEmpty() && nrRunning == 0;
    }

    /** An idle worker is available ({@code may_start_working}). */
    boolean mayStartWorking() {
        return nrIdle > 0;
    }

    /** A worker may take another item ({@code keep_working}). */
    boolean keepWorking() {
        return !worklist.isEmpty() && nrRunning <= 1;
    }

    /** A worker is needed and none is idle ({@code need_to_create_worker}). */
    boolean needToCreateWorker() {
        return needMoreWorker() && !mayStartWorking();
    }

    private boolean tooManyWorkers() {
        int idle = nrIdle + (managerActive ? 1 : 0);
        int busy = nrWorkers - idle;
        return idle > 2 && (idle - 2) * 4 >= busy;
    }

    /** Wakes the most recently idle worker if one is needed ({@code kick_pool}). Lock held. */
    void kick() {
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
        if (w != null) {
            w.wakeUp();
        }
    }

    boolean isExecuting(Work work) {
        lock.lock();
        try {
            return busyHash.containsKey(work);
        } finally {
            lock.unlock();
        }
    }

    /** Records progress for the watchdog. */
    void touchProgress() {
        lastProgressNanos = platform.nanoTime();
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
            w.task = sys.kthreadd().create(wname, w::run);
        } catch (ThreadStartException e) {
            sys.stats.workerCreationFailures.increment();
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
        sys.stats.workersCreated.increment();
        lock.lock();
        try {
            workers.add(w);
            nrWorkers++;
            w.enterIdle();
            w.wakeUp();
        } finally {
            lock.unlock();
        }
        return w;
    }

    // ---- timers (atomic context) ----

    /** Calls the rescuers of every queue with items waiting here, then re-arms ({@code pool_mayday_timeout}). */
    private void maydayTimeout() {
        lock.lock();
        try {
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
                nrIdle--;
                nrWorkers--;
                workers.remove(w);
                w.flags |= Worker.DIE;
                w.wakeUp();
                reaped.add(w);
                sys.stats.workersReaped.increment();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Arms the idle timer if there are too many idle workers. Lock held. */
    void maybeArmIdleTimer() {
        if (tooManyWorkers() && !idleTimer.isPending()) {
            idleTimer.arm(sys.config().idleTimeout());
        }
    }

    /** Asks every worker to exit (system shutdown); returns them, with any still exiting after a reap. */
    List<Worker> stopAll() {
        lock.lock();
        try {
            List<Worker> all = new ArrayList<>(workers);
            all.addAll(reaped);
            reaped.clear();
            for (Worker w : all) {
                w.flags |= Worker.DIE;
                w.wakeUp();
            }
            workers.clear();
            idleList.clear();
            nrIdle = 0;
            nrWorkers = 0;
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
