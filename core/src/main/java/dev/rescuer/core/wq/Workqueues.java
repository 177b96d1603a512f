package dev.rescuer.core.wq;

import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The workqueue subsystem of one system, {@code kernel/workqueue.c} on the platform: the worker pools
 * (per CPU a normal and a high-priority pool and two BH contexts; an unbound pool per priority), the
 * kthreadd task that creates every worker, the system queues, and the queueing, cancelling and
 * flushing paths shared by all queues.
 *
 * <p>Implementation overview. An item's state is a PENDING bit, set by whoever queues it, plus the
 * pool-workqueue it was last queued through. Queueing sets PENDING and, in one atomic section (no
 * sleeping, no preemption), puts the item on a pool's worklist or its pwq's inactive list. A worker
 * clears PENDING right before running the item, so re-queueing during a run succeeds; the item then
 * goes to the pool that is running it, and the busy-hash collision check in
 * {@link Worker#assignWork} makes it run after the current run, on the same worker. Cancelling
 * "grabs" PENDING: from the delayed-work timer, from an idle item, or by unlinking a queued item under
 * its pool's lock, retrying while a queueing or timer callback is half way. Flushing an item waits
 * until the queueing it saw has finished (a per-item sequence number); flushing a queue waits for a
 * flush color to drain from all its pwqs.
 */
public final class Workqueues implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    /** The kernel's {@code WQ_MAX_ACTIVE}. */
    public static final int MAX_ACTIVE = 2048;
    /** The kernel's {@code WQ_DFL_ACTIVE}, used when {@code maxActive} is 0. */
    public static final int DEFAULT_ACTIVE = 1024;

    private final Platform platform;
    private final WorkqueueConfig config;
    private final WorkerPool[][] cpuPools;    // [cpu][highpri]
    private final WorkerPool[] unboundPools; // [highpri]
    private final WorkerPool[][] bhPools;    // [cpu][highpri]
    private final Kthreadd kthreadd;
    private final Softirq[] softirqs;
    private final Set<WorkQueue> queues = ConcurrentHashMap.newKeySet();
    private final WorkQueue systemWq;
    private final WorkQueue systemHighpriWq;
    private final WorkQueue systemLongWq;
    private final WorkQueue systemUnboundWq;
    private final WorkQueue systemBhWq;
    private final WorkQueue systemBhHighpriWq;
    private final PlatformTimer tick;
    private final AtomicBoolean tickArmed = new AtomicBoolean();
    private final Watchdog watchdog;
    private volatile boolean frozen;
    private volatile boolean closed;
    final Stats stats = new Stats();

    /** Counters, read by {@link #stats()}. */
    static final class Stats {
        final LongAdder queued = new LongAdder();
        final LongAdder workExecuted = new LongAdder();
        final LongAdder workFailures = new LongAdder();
        final LongAdder workersCreated = new LongAdder();
        final LongAdder workerCreationFailures = new LongAdder();
        final LongAdder workersReaped = new LongAdder();
        final LongAdder maydays = new LongAdder();
        final LongAdder rescued = new LongAdder();
        final LongAdder cpuIntensiveMarked = new LongAdder();
        final LongAdder flushDependencyViolations = new LongAdder();
    }

    /**
     * Starts the subsystem: kthreadd, every pool's first worker, the softirq contexts and the system
     * queues. Every thread is created by kthreadd and costs pages if the platform charges for threads.
     */
    public Workqueues(Platform platform, WorkqueueConfig config) {
        this.platform = platform;
        this.config = config;
        int cpus = config.cpus();
        this.kthreadd = new Kthreadd(platform);
        this.cpuPools = new WorkerPool[cpus][2];
        this.bhPools = new WorkerPool[cpus][2];
        this.unboundPools = new WorkerPool[2];
        this.softirqs = new Softirq[cpus];
        this.tick = platform.newTimer("wq_tick", this::tick);
        try {
            int id = 0;
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int h = 0; h < 2; h++) {
                    cpuPools[cpu][h] = new WorkerPool(this, id++, cpu, h == 1, false);
                }
            }
            for (int h = 0; h < 2; h++) {
                unboundPools[h] = new WorkerPool(this, id++, -1, h == 1, false);
            }
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int h = 0; h < 2; h++) {
                    bhPools[cpu][h] = new WorkerPool(this, id++, cpu, h == 1, true);
                }
                softirqs[cpu] = new Softirq(this, cpu, bhPools[cpu][0], bhPools[cpu][1]);
            }
            for (WorkerPool[] ps : cpuPools) {
                for (WorkerPool p : ps) {
                    p.start();
                }
            }
            for (WorkerPool p : unboundPools) {
                p.start();
            }
            systemWq = create("events", 0);
            systemHighpriWq = create("events_highpri", 0, WqFlag.HIGHPRI);
            systemLongWq = create("events_long", 0);
            systemUnboundWq = create("events_unbound", MAX_ACTIVE, WqFlag.UNBOUND);
            systemBhWq = create("events_bh", 0, WqFlag.BH);
            systemBhHighpriWq = create("events_bh_highpri", 0, WqFlag.BH, WqFlag.HIGHPRI);
        } catch (RuntimeException | Error e) {
            abortStart();
            throw e;
        }
        if (config.watchdogThreshold().isZero()) {
            watchdog = null;
        } else {
            watchdog = new Watchdog(this, config.watchdogThreshold());
            watchdog.start();
        }
    }

    /** Stops what a failed constructor had started: softirq contexts, pool workers, kthreadd. */
    private void abortStart() {
        for (Softirq sirq : softirqs) {
            if (sirq != null) {
                sirq.stop();
            }
        }
        for (WorkerPool[] ps : cpuPools) {
            stopPools(ps);
        }
        stopPools(unboundPools);
        kthreadd.stop();
    }

    private void stopPools(WorkerPool[] pools) {
        for (WorkerPool p : pools) {
            if (p != null) {
                for (Worker w : p.stopAll()) {
                    if (w.task != null) {
                        platform.join(w.task);
                    }
                }
            }
        }
    }

    /**
     * Registers a listener for the watchdog's lockup reports.
     *
     * @throws IllegalStateException if the watchdog is disabled
     */
    public void onLockup(java.util.function.Consumer<LockupReport> listener) {
        if (watchdog == null) {
            throw new IllegalStateException("the workqueue watchdog is disabled (watchdogThreshold is zero)");
        }
        watchdog.addListener(listener);
    }

    /**
     * The state of every busy queue and pool, in the form of the kernel's {@code show_all_workqueues()}:
     * per queue and pool, the items in flight (with their worker and for how long), pending and
     * inactive, and the mayday state; per pool, how long it has been stuck, its workers, manager and
     * idle workers. Safe to call from any context.
     */
    public String dump() {
        long now = platform.nanoTime();
        StringBuilder sb = new StringBuilder("Showing busy workqueues and worker pools:\n");
        List<WorkQueue> sorted = new ArrayList<>(queues);
        sorted.sort(java.util.Comparator.comparing(WorkQueue::name));
        for (WorkQueue wq : sorted) {
            StringBuilder q = new StringBuilder();
            for (PoolWorkqueue pwq : wq.pwqs()) {
                WorkerPool p = pwq.pool;
                p.lock.lock();
                try {
                    if (pwq.isIdle()) {
                        continue;
                    }
                    q.append("  pwq ").append(p.describe()).append(" active=").append(pwq.nrActive).append('/')
                            .append(wq.maxActive() == Integer.MAX_VALUE ? "-" : String.valueOf(wq.maxActive()))
                            .append(pwq.onMayday ? " [MAYDAY]" : "").append('\n');
                    List<Worker> busy = busyByName(p);
                    List<String> inFlight = new ArrayList<>();
                    for (Worker w : busy) {
                        if (w.currentPwq == pwq) {
                            inFlight.add(w.name + (w.rescuer ? "(RESCUER)" : "") + ":" + w.currentWork.name() + " for "
                                    + seconds(now - w.currentStartNanos));
                        }
                    }
                    appendList(q, "in-flight", inFlight);
                    List<String> pending = new ArrayList<>();
                    for (Work w = p.worklist.first(); w != null; w = w.next) {
                        if (w.pwq == pwq) {
                            pending.add(w.name());
                        }
                    }
                    for (Worker w : busy) {
                        for (Work s = w.scheduled.first(); s != null; s = s.next) {
                            if (s.pwq == pwq) {
                                pending.add(s.name());
                            }
                        }
                    }
                    appendList(q, "pending", pending);
                    List<String> inactive = new ArrayList<>();
                    for (Work w = pwq.inactive.first(); w != null; w = w.next) {
                        inactive.add(w.name());
                    }
                    appendList(q, "inactive", inactive);
                } finally {
                    p.lock.unlock();
                }
            }
            if (q.length() > 0) {
                sb.append("workqueue ").append(wq.name()).append(": flags=").append(wq.flags())
                        .append(wq.isOrdered() ? " ordered" : "").append('\n').append(q);
            }
        }
        for (WorkerPool p : allPools()) {
            p.lock.lock();
            try {
                if (p.worklist.isEmpty() && p.busyHash.isEmpty()) {
                    continue;
                }
                sb.append("pool ").append(p.describe()).append(" hung=")
                        .append(p.worklist.isEmpty() ? "0s" : seconds(now - p.lastProgressNanos))
                        .append(" workers=").append(p.nrWorkers);
                if (p.manager != null) {
                    sb.append(" manager: ").append(p.manager.name);
                }
                if (!p.idleList.isEmpty()) {
                    sb.append(" idle:");
                    for (Worker w : p.idleList) {
                        sb.append(' ').append(w.name);
                    }
                }
                sb.append('\n');
            } finally {
                p.lock.unlock();
            }
        }
        return sb.toString();
    }

    private static void appendList(StringBuilder sb, String label, List<String> items) {
        if (!items.isEmpty()) {
            sb.append("    ").append(label).append(": ").append(String.join(", ", items)).append('\n');
        }
    }

    /** A duration for dumps: whole seconds from 10 s up, milliseconds below. */
    static String seconds(long nanos) {
        return nanos >= 10_000_000_000L ? (nanos / 1_000_000_000L) + "s" : String.format("%.3fs", nanos / 1e9);
    }

    // ------------------------------------------------------------------ creation

    /**
     * Creates a queue ({@code alloc_workqueue}). A {@link WqFlag#MEM_RECLAIM} queue starts its rescuer
     * now, through kthreadd.
     *
     * @param maxActive active items per pool, in {@code [1, MAX_ACTIVE]}, or 0 for {@link #DEFAULT_ACTIVE};
     *     must be 0 for a BH queue
     * @throws IllegalArgumentException for a blank name, a {@code maxActive} out of range, or flags
     *     that cannot be combined ({@code BH} with anything but {@code HIGHPRI})
     */
    public WorkQueue create(String name, int maxActive, WqFlag... flags) {
        Set<WqFlag> f = flagSet(flags);
        checkName(name);
        if (f.contains(WqFlag.BH)) {
            Set<WqFlag> extra = EnumSet.copyOf(f);
            extra.removeAll(EnumSet.of(WqFlag.BH, WqFlag.HIGHPRI));
            if (!extra.isEmpty()) {
                throw new IllegalArgumentException("workqueue " + name + ": BH may only be combined with HIGHPRI, not " + extra
                        + (extra.contains(WqFlag.MEM_RECLAIM) ? " (BH queues run in softirq context and have no rescuer)" : ""));
            }
            if (maxActive != 0) {
                throw new IllegalArgumentException("workqueue " + name + ": a BH queue's maxActive must be 0, got " + maxActive);
            }
            return register(new WorkQueue(this, name, f, Integer.MAX_VALUE, false));
        }
        if (maxActive < 0 || maxActive > MAX_ACTIVE) {
            throw new IllegalArgumentException("workqueue " + name + ": maxActive must be in [0, " + MAX_ACTIVE + "] (0 means "
                    + DEFAULT_ACTIVE + "), got " + maxActive);
        }
        return register(new WorkQueue(this, name, f, maxActive == 0 ? DEFAULT_ACTIVE : maxActive, false));
    }

    /**
     * Creates an ordered queue: unbound, one item at a time, in queueing order
     * ({@code alloc_ordered_workqueue}). Only {@code MEM_RECLAIM}, {@code FREEZABLE} and {@code HIGHPRI}
     * may be given.
     */
    public WorkQueue createOrdered(String name, WqFlag... flags) {
        Set<WqFlag> f = flagSet(flags);
        checkName(name);
        Set<WqFlag> extra = EnumSet.copyOf(f.isEmpty() ? EnumSet.noneOf(WqFlag.class) : f);
        extra.removeAll(EnumSet.of(WqFlag.MEM_RECLAIM, WqFlag.FREEZABLE, WqFlag.HIGHPRI));
        if (!extra.isEmpty()) {
            throw new IllegalArgumentException("ordered workqueue " + name + ": only MEM_RECLAIM, FREEZABLE and HIGHPRI may be given, not " + extra);
        }
        f.add(WqFlag.UNBOUND);
        return register(new WorkQueue(this, name, f, 1, true));
    }

    private static Set<WqFlag> flagSet(WqFlag[] flags) {
        Set<WqFlag> f = EnumSet.noneOf(WqFlag.class);
        for (WqFlag x : flags) {
            if (x == null) {
                throw new NullPointerException("flag");
            }
            f.add(x);
        }
        return f;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a workqueue needs a non-blank name");
        }
    }

    private WorkQueue register(WorkQueue wq) {
        if (closed) {
            throw new IllegalStateException("workqueue subsystem is closed; cannot create " + wq.name());
        }
        queues.add(wq);
        return wq;
    }

    void unregister(WorkQueue wq) {
        queues.remove(wq);
    }

    // ------------------------------------------------------------------ accessors

    /** The platform. */
    public Platform platform() {
        return platform;
    }

    /** The configuration. */
    public WorkqueueConfig config() {
        return config;
    }

    /** Number of CPUs (per-CPU pools). */
    public int cpus() {
        return config.cpus();
    }

    /** {@code system_wq} ("events"): per-CPU, no rescuer. */
    public WorkQueue systemWq() {
        return systemWq;
    }

    /** {@code system_highpri_wq} ("events_highpri"). */
    public WorkQueue systemHighpriWq() {
        return systemHighpriWq;
    }

    /** {@code system_long_wq} ("events_long"), for items that may run long. */
    public WorkQueue systemLongWq() {
        return systemLongWq;
    }

    /** {@code system_unbound_wq} ("events_unbound"). */
    public WorkQueue systemUnboundWq() {
        return systemUnboundWq;
    }

    /** {@code system_bh_wq} ("events_bh"). */
    public WorkQueue systemBhWq() {
        return systemBhWq;
    }

    /** {@code system_bh_highpri_wq} ("events_bh_highpri"). */
    public WorkQueue systemBhHighpriWq() {
        return systemBhHighpriWq;
    }

    /** The live queues. A snapshot. */
    public Collection<WorkQueue> queues() {
        return new ArrayList<>(queues);
    }

    /** The kthreadd task. */
    public Task kthreaddTask() {
        return kthreadd.task();
    }

    /** A snapshot of the counters. */
    public WorkqueueStats stats() {
        Stats s = stats;
        return new WorkqueueStats(s.queued.sum(), s.workExecuted.sum(), s.workFailures.sum(), s.workersCreated.sum(),
                s.workerCreationFailures.sum(), s.workersReaped.sum(), s.maydays.sum(), s.rescued.sum(),
                s.cpuIntensiveMarked.sum(), s.flushDependencyViolations.sum());
    }

    /** Worker threads alive in all pools, not counting rescuers, kthreadd and softirq contexts. */
    public int workerCount() {
        int n = 0;
        for (WorkerPool p : allPools()) {
            p.lock.lock();
            try {
                n += p.nrWorkers;
            } finally {
                p.lock.unlock();
            }
        }
        return n;
    }

    Kthreadd kthreadd() {
        return kthreadd;
    }

    WorkerPool cpuPool(int cpu, boolean high) {
        return cpuPools[cpu][high ? 1 : 0];
    }

    WorkerPool unboundPool(boolean high) {
        return unboundPools[high ? 1 : 0];
    }

    WorkerPool bhPool(int cpu, boolean high) {
        return bhPools[cpu][high ? 1 : 0];
    }

    List<WorkerPool> allPools() {
        List<WorkerPool> all = new ArrayList<>();
        for (WorkerPool[] ps : cpuPools) {
            all.addAll(Arrays.asList(ps));
        }
        all.addAll(Arrays.asList(unboundPools));
        for (WorkerPool[] ps : bhPools) {
            all.addAll(Arrays.asList(ps));
        }
        return all;
    }

    void raiseSoftirq(int cpu) {
        softirqs[cpu].raise();
    }

    /** The worker record of {@code task}, if it is a worker or rescuer. */
    static Worker currentWorker(Task task) {
        Object d = task.kthreadData();
        return d instanceof Worker ? (Worker) d : null;
    }

    /**
     * Who could make {@code work} finish now: the task running it, or the pool's manager and the
     * queue's rescuer while it waits. For hang reports; see {@link WorkStatus}.
     */
    public WorkStatus status(Work work) {
        PoolWorkqueue pwq = work.pwq;
        if (pwq == null) {
            return new WorkStatus(null, work.isPending(), null, null, null);
        }
        WorkerPool p = pwq.pool;
        p.lock.lock();
        try {
            Worker runner = p.busyHash.get(work);
            return new WorkStatus(pwq.wq.name(), work.isPending(), runner == null ? null : runner.task,
                    p.manager == null ? null : p.manager.task, pwq.wq.rescuerTask());
        } finally {
            p.lock.unlock();
        }
    }

    /**
     * The items that hold {@code work} back while {@code max_active} keeps it inactive: the active items
     * of the same pool_workqueue (running ones first, in their workers' name order, then those waiting
     * for a worker, in queueing order); empty if {@code work} is not inactive. For hang reports: a
     * rescuer runs only active items, so an inactive item waits for these. A snapshot taken under the
     * pool's lock; advisory once the lock is dropped.
     */
    public List<Work> activeAhead(Work work) {
        PoolWorkqueue pwq = work.pwq;
        if (pwq == null) {
            return List.of();
        }
        List<Work> out = new ArrayList<>();
        pwq.pool.lock.lock();
        try {
            if (work.inactive && work.list == pwq.inactive) {
                addActive(pwq, out);
            }
        } finally {
            pwq.pool.lock.unlock();
        }
        return out;
    }

    /**
     * The items of {@code wq} in flight now, the ones its {@code flush()} may wait for: per pool, the
     * running ones (in their workers' name order), those waiting for a worker, then those held back
     * by {@code max_active}. For hang reports; a snapshot per pool, advisory.
     */
    public List<Work> inFlight(WorkQueue wq) {
        List<Work> out = new ArrayList<>();
        for (PoolWorkqueue pwq : wq.pwqs()) {
            pwq.pool.lock.lock();
            try {
                addActive(pwq, out);
                for (Work w = pwq.inactive.first(); w != null; w = w.next) {
                    out.add(w);
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return out;
    }

    /** Adds the active items of {@code pwq}: running, then on the worklist or a worker's scheduled list. Pool lock held. */
    private static void addActive(PoolWorkqueue pwq, List<Work> out) {
        WorkerPool p = pwq.pool;
        List<Worker> busy = busyByName(p);
        for (Worker w : busy) {
            if (w.currentPwq == pwq) {
                out.add(w.currentWork);
            }
        }
        for (Work w = p.worklist.first(); w != null; w = w.next) {
            if (w.pwq == pwq) {
                out.add(w);
            }
        }
        for (Worker w : busy) {
            for (Work s = w.scheduled.first(); s != null; s = s.next) {
                if (s.pwq == pwq) {
                    out.add(s);
                }
            }
        }
    }

    /** The pool's busy workers in name order: the busy hash iterates in identity order, which a replay must not show. */
    private static List<Worker> busyByName(WorkerPool p) {
        List<Worker> busy = new ArrayList<>(p.busyHash.values());
        busy.sort((a, b) -> a.name.compareTo(b.name));
        return busy;
    }

    /**
     * The kernel's {@code print_worker_info} line for a task: {@code "Workqueue: <queue> <item>"} if
     * it is a worker or rescuer running an item, else {@code null}. Advisory; for reports.
     */
    public static String describeWorker(Task task) {
        Worker w = currentWorker(task);
        if (w == null) {
            return null;
        }
        Work cur = w.currentWork;
        PoolWorkqueue pwq = w.currentPwq;
        return cur == null || pwq == null ? null : "Workqueue: " + pwq.wq.name() + " " + cur.name() + (w.rescuer ? " (rescuer)" : "");
    }

    /** The current task's CPU ({@code smp_processor_id}); see {@link #resolveCpu}. */
    int currentCpu() {
        return resolveCpu(CURRENT_CPU, platform.currentTask());
    }

    /** Stands for "the current task's CPU" in the queueing entry points. */
    static final int CURRENT_CPU = -1;

    /**
     * The CPU {@code cpu} names: itself, or for {@link #CURRENT_CPU} the CPU of task {@code t}, which is
     * its pool's CPU for a bound worker and otherwise the task id modulo the CPU count (the JVM does
     * not say which CPU a thread runs on).
     */
    private int resolveCpu(int cpu, Task t) {
        if (cpu != CURRENT_CPU) {
            return cpu;
        }
        Worker w = currentWorker(t);
        if (w != null) {
            WorkerPool p = w.pool;
            if (p != null && p.cpu >= 0) {
                return p.cpu;
            }
        }
        return (int) Math.floorMod(t.id(), (long) config.cpus());
    }

    // ------------------------------------------------------------------ freezing

    /** Freezes {@link WqFlag#FREEZABLE} queues: their new items wait on inactive lists until {@link #thaw()}. */
    public void freeze() {
        frozen = true;
    }

    /** Thaws freezable queues and activates their held items. */
    public void thaw() {
        frozen = false;
        for (WorkQueue wq : queues) {
            if (wq.flags().contains(WqFlag.FREEZABLE)) {
                for (PoolWorkqueue pwq : wq.pwqs()) {
                    pwq.pool.lock.lock();
                    try {
                        while (activateFirstInactive(pwq)) {
                            // keep going
                        }
                        pwq.pool.kick();
                    } finally {
                        pwq.pool.lock.unlock();
                    }
                }
            }
        }
    }

    boolean isFrozen() {
        return frozen;
    }

    // ------------------------------------------------------------------ queueing

    boolean queue(WorkQueue wq, int cpu, Work work) {
        if (work == null) {
            throw new NullPointerException("work");
        }
        Task self = platform.currentTask();
        int target = resolveCpu(cpu, self);
        platform.preemptionPoint();
        self.enterAtomic(); // like local_irq_save(): no sleeping, no preemption between PENDING and the list
        try {
            if (!claimPending(work)) {
                return false;
            }
            insertWork(wq, target, work, self);
            return true;
        } finally {
            self.exitAtomic();
        }
    }

    /**
     * Sets PENDING, unless it is set already or the item is disabled ({@code test_and_set_bit} plus
     * {@code clear_pending_if_disabled}): the disable depth is read after PENDING is set, so a
     * concurrent {@code disable()}, which raises the depth before grabbing PENDING, cannot miss it.
     */
    private static boolean claimPending(Work work) {
        if (!work.pending.compareAndSet(false, true)) {
            return false;
        }
        if (work.disableDepth.get() != 0) {
            work.pending.set(false);
            return false;
        }
        return true;
    }

    private static void checkDelayArgs(DelayedWork work, Duration delay) {
        if (work == null || delay == null) {
            throw new NullPointerException(work == null ? "work" : "delay");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay " + delay + " for work " + work.name());
        }
    }

    /** Puts an item whose PENDING bit the caller owns on a list ({@code __queue_work}). */
    private void insertWork(WorkQueue wq, int cpu, Work work, Task self) {
        if (wq.isDestroyed()) {
            work.pending.set(false);
            throw new IllegalStateException("cannot queue work " + work.name() + " on workqueue " + wq.name() + ": it was destroyed");
        }
        if (wq.isDraining()) {
            Worker cur = currentWorker(self);
            if (cur == null || cur.currentPwq == null || cur.currentPwq.wq != wq) {
                work.pending.set(false);
                throw new IllegalStateException("cannot queue work " + work.name() + " on workqueue " + wq.name()
                        + ": it is draining or being destroyed, and only its own items may queue to it now");
            }
        }
        PoolWorkqueue pwq = wq.pwqFor(cpu);
        PoolWorkqueue last = work.pwq;
        WorkerPool pool;
        if (last != null && last.pool != pwq.pool && last.wq == wq) {
            // Non-reentrancy: if it is running on the pool it last ran on, queue it there.
            WorkerPool lp = last.pool;
            lp.lock.lock();
            Worker running = lp.busyHash.get(work);
            if (running != null && running.currentPwq != null && running.currentPwq.wq == wq) {
                pwq = running.currentPwq;
                pool = lp;
            } else {
                lp.lock.unlock();
                pool = pwq.pool;
                pool.lock.lock();
            }
        } else {
            pool = pwq.pool;
            pool.lock.lock();
        }
        boolean active;
        try {
            work.queueSeq++;
            work.pwq = pwq;
            work.color = pwq.workColor;
            pwq.nrInFlight[work.color]++;
            active = pwq.nrActive < wq.effectiveMaxActive() && pwq.inactive.isEmpty();
            if (active) {
                pwq.nrActive++;
                work.inactive = false;
                if (pool.worklist.isEmpty()) {
                    pool.touchProgress();
                }
                pool.worklist.append(work);
                pool.kick();
            } else {
                work.inactive = true;
                pwq.inactive.append(work);
            }
        } finally {
            pool.lock.unlock();
        }
        stats.queued.increment();
        WqEvents.queued(wq.name(), work.name(), pool.name(), active);
    }

    /** Moves the first inactive item of {@code pwq} to the worklist if the limit allows. Pool lock held. */
    private boolean activateFirstInactive(PoolWorkqueue pwq) {
        if (pwq.inactive.isEmpty() || pwq.nrActive >= pwq.wq.effectiveMaxActive()) {
            return false;
        }
        Work w = pwq.inactive.pollFirst();
        w.inactive = false;
        pwq.nrActive++;
        if (pwq.pool.worklist.isEmpty()) {
            pwq.pool.touchProgress();
        }
        pwq.pool.worklist.append(w);
        WqEvents.activated(pwq.wq.name(), w.name(), pwq.pool.name());
        return true;
    }

    /**
     * Accounts for an item leaving its pwq, run or cancelled ({@code pwq_dec_nr_in_flight}), and
     * activates the next inactive one. Pool lock held.
     *
     * @return whether a queue flusher waiting on this color must be woken (after unlocking)
     */
    boolean pwqDecNrInFlight(PoolWorkqueue pwq, int color, boolean wasActive) {
        if (wasActive) {
            pwq.nrActive--;
            if (activateFirstInactive(pwq)) {
                pwq.pool.kick();
            }
        }
        pwq.nrInFlight[color]--;
        return pwq.flushColor == color && pwq.nrInFlight[color] == 0;
    }

    void wakeWorkFlushers(Work work) {
        WaitQueue fw = work.flushWait;
        if (fw != null) {
            fw.wakeUpAll();
        }
    }

    // ------------------------------------------------------------------ delayed work

    boolean queueDelayed(WorkQueue wq, int cpu, DelayedWork work, Duration delay) {
        checkDelayArgs(work, delay);
        Task self = platform.currentTask();
        int target = resolveCpu(cpu, self);
        platform.preemptionPoint();
        self.enterAtomic();
        try {
            if (!claimPending(work)) {
                return false;
            }
            armOrInsert(wq, target, work, delay, self);
            return true;
        } finally {
            self.exitAtomic();
        }
    }

    /** With PENDING owned: queue now, or arm the timer ({@code __queue_delayed_work}). */
    private void armOrInsert(WorkQueue wq, int cpu, DelayedWork work, Duration delay, Task self) {
        if (delay.isZero()) {
            insertWork(wq, cpu, work, self);
            return;
        }
        if (wq.isDestroyed()) {
            work.pending.set(false);
            throw new IllegalStateException("cannot queue work " + work.name() + " on workqueue " + wq.name() + ": it was destroyed");
        }
        if (work.timer == null) {
            work.timer = platform.newTimer("delayed " + work.name(), () -> delayedTimerFired(work));
        }
        work.targetWq = wq;
        work.targetCpu = cpu;
        wq.armedDelayed.add(work);
        work.timer.arm(delay);
    }

    /** Timer callback, in atomic context ({@code delayed_work_timer_fn}). */
    private void delayedTimerFired(DelayedWork work) {
        WorkQueue wq = work.targetWq;
        wq.armedDelayed.remove(work);
        insertWork(wq, work.targetCpu, work, platform.currentTask());
    }

    boolean modDelayed(WorkQueue wq, int cpu, DelayedWork work, Duration delay) {
        checkDelayArgs(work, delay);
        Task self = platform.currentTask();
        int target = resolveCpu(cpu, self);
        int r = grabPendingRetrying(work);
        self.enterAtomic();
        try {
            if (work.disableDepth.get() != 0) {
                work.pending.set(false);
            } else {
                armOrInsert(wq, target, work, delay, self);
            }
        } finally {
            self.exitAtomic();
        }
        return r == 1;
    }

    /** If the timer is pending, queues the item now ({@code flush_delayed_work}'s first step). */
    void fireDelayedNow(DelayedWork work) {
        PlatformTimer t = work.timer;
        if (t != null && t.cancel()) {
            WorkQueue wq = work.targetWq;
            wq.armedDelayed.remove(work);
            Task self = platform.currentTask();
            self.enterAtomic();
            try {
                insertWork(wq, work.targetCpu, work, self);
            } finally {
                self.exitAtomic();
            }
        }
    }

    // ------------------------------------------------------------------ grab, cancel, flush

    /**
     * Takes ownership of the PENDING bit ({@code try_to_grab_pending}).
     *
     * @return 1 if the item was pending and is now owned (taken off its timer or list), 0 if it was
     *     idle and PENDING is now owned, -1 if a queueing or timer callback is half way: retry
     */
    private int grabPending(Work work) {
        if (work instanceof DelayedWork) {
            DelayedWork dw = (DelayedWork) work;
            PlatformTimer t = dw.timer;
            if (t != null && t.cancel()) {
                dw.targetWq.armedDelayed.remove(dw);
                return 1;
            }
        }
        if (work.pending.compareAndSet(false, true)) {
            return 0;
        }
        PoolWorkqueue pwq = work.pwq;
        if (pwq == null) {
            return -1;
        }
        WorkerPool pool = pwq.pool;
        boolean wakeFlusher;
        pool.lock.lock();
        try {
            WorkList list = work.list;
            if (work.pwq != pwq || list == null || list.pool != pool) {
                return -1; // being queued, or queued on another pool meanwhile: retry
            }
            boolean wasActive = !work.inactive;
            list.remove(work);
            work.inactive = false;
            wakeFlusher = pwqDecNrInFlight(pwq, work.color, wasActive);
            // The cancelled queueing counts as finished for flushers, but only once no earlier one is
            // still running: if the item runs here now, its run finishes the cancelled one too (see
            // Worker.processOneWork), so that cancelSync and flush still wait for that run.
            if (work.queueSeq > work.doneSeq && !pool.busyHash.containsKey(work)) {
                work.doneSeq = work.queueSeq;
            }
        } finally {
            pool.lock.unlock();
        }
        if (wakeFlusher) {
            pwq.wq.wakeFlusher();
        }
        wakeWorkFlushers(work);
        return 1;
    }

    private int grabPendingRetrying(Work work) {
        int r;
        while ((r = grabPending(work)) < 0) {
            platform.cpuRelax(); // let the half-done queueing or timer callback finish
        }
        return r;
    }

    /** Grabs and releases PENDING ({@code disable_work}'s cancel step). */
    boolean grabAndRelease(Work work) {
        int r = grabPendingRetrying(work);
        work.pending.set(false);
        return r == 1;
    }

    boolean cancel(Work work, boolean sync) {
        Task self = platform.currentTask();
        if (sync) {
            self.checkMaySleep(work, "cancel_work_sync");
            work.incDisable(); // so an item that re-queues itself cannot win
        }
        try {
            boolean was = grabAndRelease(work);
            if (sync) {
                flushWork(work, self, false);
            }
            return was;
        } finally {
            if (sync) {
                work.enable();
            }
        }
    }

    boolean flushWork(Work work) {
        Task self = platform.currentTask();
        self.checkMaySleep(work, "flush_work");
        return flushWork(work, self, true);
    }

    /** Waits for the last queueing of {@code work} to finish ({@code __flush_work}). */
    private boolean flushWork(Work work, Task self, boolean checkDependency) {
        Worker cur = currentWorker(self);
        if (cur != null && cur.currentWork == work) {
            throw new IllegalStateException("flush of work " + work.name() + " from its own run in " + cur.name + " can never finish");
        }
        long target;
        PoolWorkqueue pwq;
        while (true) {
            pwq = work.pwq;
            if (pwq == null) {
                return false;
            }
            WorkerPool pool = pwq.pool;
            pool.lock.lock();
            try {
                WorkList list = work.list;
                if (work.pwq != pwq || (list != null && list.pool != pool)) {
                    continue; // queued on another pool meanwhile
                }
                if (list != null) {
                    target = work.queueSeq;
                } else {
                    Worker w = pool.busyHash.get(work);
                    if (w == null) {
                        return false;
                    }
                    target = w.currentSeq;
                }
                break;
            } finally {
                pool.lock.unlock();
            }
        }
        if (checkDependency) {
            checkFlushDependency(self, cur, pwq.wq, work);
        }
        final long t = target;
        work.flushWait(platform).waitEvent(() -> work.doneSeq >= t);
        return true;
    }

    /**
     * The kernel's {@code check_flush_dependency}: a task on the reclaim path (a worker of a
     * {@code MEM_RECLAIM} queue, or a task in a {@code NORECLAIM} scope) must not wait for a queue
     * that has no rescuer, since that queue may need a new worker to make progress.
     */
    void checkFlushDependency(Task self, Worker cur, WorkQueue target, Work work) {
        if (target.isMemReclaim()) {
            return;
        }
        String what = target.name() + (work == null ? "" : ":" + work.name());
        String msg = null;
        if ((self.memallocFlags() & MemallocScope.NORECLAIM) != 0) {
            msg = "workqueue: PF_MEMALLOC task " + self.id() + "(" + self.name() + ") is flushing !WQ_MEM_RECLAIM " + what;
        } else if (cur != null && cur.currentPwq != null && cur.currentPwq.wq.isMemReclaim()) {
            msg = "workqueue: WQ_MEM_RECLAIM " + cur.currentPwq.wq.name() + ":" + cur.currentWork.name()
                    + " is flushing !WQ_MEM_RECLAIM " + what;
        }
        if (msg == null) {
            return;
        }
        stats.flushDependencyViolations.increment();
        if (config.flushDependencyIsError()) {
            throw new IllegalStateException(msg);
        }
        LOG.log(Level.WARNING, msg);
    }

    // ------------------------------------------------------------------ CPU-intensive detection

    /** Arms the tick that watches for CPU hogs, if it is not armed. */
    void ensureTick() {
        if (!tickArmed.get() && tickArmed.compareAndSet(false, true)) {
            tick.arm(config.cpuIntensiveThreshold().dividedBy(2));
        }
    }

    /**
     * Marks workers that have run one item past the threshold as CPU-intensive, so their pool lets
     * another worker start ({@code wq_worker_tick}). Timer context.
     */
    private void tick() {
        long now = platform.nanoTime();
        long thresh = config.cpuIntensiveThreshold().toNanos();
        boolean busy = false;
        for (WorkerPool[] ps : cpuPools) {
            for (WorkerPool p : ps) {
                p.lock.lock();
                try {
                    for (Worker w : p.busyHash.values()) {
                        busy = true;
                        if (!w.rescuer && !w.sleeping && (w.flags & Worker.NOT_RUNNING) == 0
                                && now - w.currentAtNanos >= thresh) {
                            w.setFlags(Worker.CPU_INTENSIVE);
                            stats.cpuIntensiveMarked.increment();
                            p.kick();
                        }
                    }
                } finally {
                    p.lock.unlock();
                }
            }
        }
        if (busy && !closed) {
            tick.arm(config.cpuIntensiveThreshold().dividedBy(2));
        } else {
            tickArmed.set(false);
        }
    }

    // ------------------------------------------------------------------ shutdown

    /**
     * Stops every worker, rescuer, softirq context and kthreadd, and waits for them. Queues must be
     * idle; items still queued are not run.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        tick.cancelSync();
        if (watchdog != null) {
            watchdog.stop();
        }
        kthreadd.stop(); // no thread is created from here on; managers give up
        for (WorkQueue wq : queues) {
            if (wq.rescuer != null) {
                wq.rescuer.stop();
            }
        }
        List<Worker> all = new ArrayList<>();
        for (WorkerPool p : allPools()) {
            p.maydayTimer.cancelSync();
            p.idleTimer.cancelSync();
            if (!p.bh) {
                all.addAll(p.stopAll());
            }
        }
        for (Worker w : all) {
            Task t = w.task;
            if (t != null) {
                platform.join(t);
            }
        }
        for (Softirq s : softirqs) {
            s.stop();
        }
    }
}
