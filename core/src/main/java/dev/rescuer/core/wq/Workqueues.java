package dev.rescuer.core.wq;

import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 *
 * <p>The subsystem owns the pools, the queues list, the system queues, kthreadd, the CPU-intensive
 * tick, {@code check_flush_dependency} and shutdown. The queueing path ({@code __queue_work}: CPU,
 * non-reentrancy, refusal, delayed timers) belongs to {@link WorkQueue}; grabbing PENDING,
 * cancelling and flushing an item ({@code try_to_grab_pending}, {@code __cancel_work_sync},
 * {@code __flush_work}) to {@link Work}; what happens to an item on a pool belongs to its {@link PoolWorkqueue}
 * (activation, flush colors, {@code pwq_dec_nr_in_flight}), its {@link WorkerPool} (worklist, idle
 * workers, kick) and the {@link Worker} that runs it, none of which call back up into this class.
 *
 * <p>Refusal. Queueing is refused with {@link IllegalStateException} (and PENDING is left clear)
 * when the queue is destroyed, when it is draining or the subsystem is closing and the caller is not
 * running one of its items (chained work), and when the subsystem is closed. The test is made under
 * the target pool's lock, the lock under which {@code drain} and {@code close} look at that pool, so
 * a queueing either is refused or is seen by them: accepted work runs. A delayed queueing with a
 * non-zero delay is refused on a draining, destroyed or closing queue (under the queue's delayed
 * lock, against which {@code destroy} and {@code close} look at the armed timers).
 *
 * <p>Memory ordering. PENDING is bit 0 of the item's state word ({@code Work.state}, beside the
 * disable depth): the CAS that sets it makes the setter the owner of the item's linkage until it is
 * on a list (published by the pool lock) or cleared again; a worker's atomic clear comes after the
 * item's state was read under the pool lock, so a re-queue racing the run is ordered by that lock. {@code Work.pwq} and
 * {@code Work.doneSeq} are volatile: written under the pool lock, read without it by cancellers and
 * flushers, who re-check under the lock. {@code closing} and {@code closed} are volatile and read
 * under the pool lock by queuers; {@link #close} writes them before it takes the pool locks to look.
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
    private final Map<String, RescuerDomain> domains = new ConcurrentHashMap<>();
    /** Queue name to the rescuer domain it joins when created ({@link #presetRescuerDomain}). */
    private final Map<String, String> presets = new ConcurrentHashMap<>();
    private final WorkQueue systemWq;
    private final WorkQueue systemHighpriWq;
    private final WorkQueue systemLongWq;
    private final WorkQueue systemUnboundWq;
    private final WorkQueue systemBhWq;
    private final WorkQueue systemBhHighpriWq;
    private final CpuIntensiveTick tick;
    private final Watchdog watchdog;
    private volatile boolean frozen;
    /** Set by close(): only chained queueing (from this subsystem's running items) and timers are accepted. */
    private volatile boolean closing;
    /** Set by close() once every accepted item has run: all queueing is refused. */
    private volatile boolean closed;
    /** Set once close() has stopped every thread. */
    private volatile boolean stopped;
    final Stats stats = new Stats();
    private final Mutex closeMutex;

    /**
     * Counters, read by {@link #stats()}. The two that move once per item, queueings and runs, are
     * not here: each pool keeps them under its lock, which the queueing and the run already hold
     * ({@link #queuedTotal()}, {@link #executedTotal()}).
     */
    static final class Stats {
        final LongAdder workFailures = new LongAdder();
        final LongAdder workersCreated = new LongAdder();
        final LongAdder workerCreationFailures = new LongAdder();
        final LongAdder workersReaped = new LongAdder();
        final LongAdder maydays = new LongAdder();
        final LongAdder rescued = new LongAdder();
        final LongAdder cpuIntensiveMarked = new LongAdder();
        final LongAdder flushDependencyViolations = new LongAdder();
        final LongAdder leaks = new LongAdder();
        final LongAdder blockedOutside = new LongAdder();
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
        this.tick = new CpuIntensiveTick(platform, config, stats);
        this.closeMutex = new Mutex(platform, "workqueues/close_mutex", "wq_close_mutex");
        try {
            int id = 0;
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int h = 0; h < 2; h++) {
                    cpuPools[cpu][h] = new WorkerPool(this, tick, id++, cpu, h == 1, false);
                }
            }
            for (int h = 0; h < 2; h++) {
                unboundPools[h] = new WorkerPool(this, tick, id++, -1, h == 1, false);
            }
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int h = 0; h < 2; h++) {
                    bhPools[cpu][h] = new WorkerPool(this, tick, id++, cpu, h == 1, true);
                }
                softirqs[cpu] = new Softirq(this, cpu, bhPools[cpu][0], bhPools[cpu][1]);
            }
            List<WorkerPool> perCpu = new ArrayList<>();
            for (WorkerPool[] ps : cpuPools) {
                perCpu.addAll(Arrays.asList(ps));
            }
            tick.watch(perCpu.toArray(new WorkerPool[0]));
            for (WorkerPool p : perCpu) {
                p.start();
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
                sirq.stop(Platform.NO_DEADLINE);
            }
        }
        for (WorkerPool[] ps : cpuPools) {
            stopPools(ps);
        }
        stopPools(unboundPools);
        kthreadd.stop(Platform.NO_DEADLINE);
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
        return WorkqueueDump.dump(this, queues());
    }

    /** A duration for dumps: whole seconds from 10 s up, milliseconds below. */
    static String seconds(long nanos) {
        return WorkqueueDump.seconds(nanos);
    }

    // ------------------------------------------------------------------ creation

    /**
     * Creates a queue ({@code alloc_workqueue}). A {@link WqFlag#MEM_RECLAIM} queue starts its rescuer
     * now, through kthreadd.
     *
     * @param maxActive active items per pool; 0 means {@link #DEFAULT_ACTIVE}, and a value outside
     *     {@code [1, MAX_ACTIVE]} is clamped into it with a warning ({@code wq_clamp_max_active});
     *     must be 0 for a BH queue
     * @throws IllegalArgumentException for a blank name, a non-zero {@code maxActive} on a BH queue,
     *     or flags that cannot be combined ({@code BH} with anything but {@code HIGHPRI})
     * @throws IllegalStateException if the subsystem is closing or closed
     */
    public WorkQueue create(String name, int maxActive, WqFlag... flags) {
        return create(name, maxActive, presetDomain(name, flags), flags);
    }

    /**
     * Creates a queue whose rescuer is {@code domain}'s shared one ({@code alloc_workqueue} with a
     * rescuer domain, which upstream does not have): like {@link #create(String, int, WqFlag...)},
     * except that no rescuer thread is started for the queue. With a {@code null} domain it is that
     * method.
     *
     * @throws IllegalArgumentException also if {@code domain} is given without {@link WqFlag#MEM_RECLAIM}
     *     or belongs to another subsystem
     */
    public WorkQueue create(String name, int maxActive, RescuerDomain domain, WqFlag... flags) {
        Set<WqFlag> f = flagSet(flags);
        checkName(name);
        checkDomain(name, domain, f);
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
            return register(new WorkQueue(this, name, f, Integer.MAX_VALUE, false, null));
        }
        return register(new WorkQueue(this, name, f, clampMaxActive(maxActive == 0 ? DEFAULT_ACTIVE : maxActive, name), false, domain));
    }

    /** {@code wq_clamp_max_active}: clamps into {@code [1, MAX_ACTIVE]}, warning when it had to. */
    static int clampMaxActive(int maxActive, String name) {
        if (maxActive < 1 || maxActive > MAX_ACTIVE) {
            LOG.log(Level.WARNING, "workqueue: max_active " + maxActive + " requested for " + name
                    + " is out of range, clamping between 1 and " + MAX_ACTIVE);
            return Math.max(1, Math.min(MAX_ACTIVE, maxActive));
        }
        return maxActive;
    }

    /**
     * Creates an ordered queue: unbound, one item at a time, in queueing order
     * ({@code alloc_ordered_workqueue}). Only {@code MEM_RECLAIM}, {@code FREEZABLE} and {@code HIGHPRI}
     * may be given.
     */
    public WorkQueue createOrdered(String name, WqFlag... flags) {
        return createOrdered(name, presetDomain(name, flags), flags);
    }

    /**
     * Creates an ordered queue whose rescuer is {@code domain}'s shared one; see
     * {@link #createOrdered(String, WqFlag...)} and {@link #create(String, int, RescuerDomain, WqFlag...)}.
     */
    public WorkQueue createOrdered(String name, RescuerDomain domain, WqFlag... flags) {
        Set<WqFlag> f = flagSet(flags);
        checkName(name);
        checkDomain(name, domain, f);
        Set<WqFlag> extra = EnumSet.copyOf(f.isEmpty() ? EnumSet.noneOf(WqFlag.class) : f);
        extra.removeAll(EnumSet.of(WqFlag.MEM_RECLAIM, WqFlag.FREEZABLE, WqFlag.HIGHPRI));
        if (!extra.isEmpty()) {
            throw new IllegalArgumentException("ordered workqueue " + name + ": only MEM_RECLAIM, FREEZABLE and HIGHPRI may be given, not " + extra);
        }
        f.add(WqFlag.UNBOUND);
        return register(new WorkQueue(this, name, f, 1, true, domain));
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

    private void checkDomain(String name, RescuerDomain domain, Set<WqFlag> f) {
        if (domain == null) {
            return;
        }
        if (!f.contains(WqFlag.MEM_RECLAIM)) {
            throw new IllegalArgumentException("workqueue " + name + ": rescuer domain " + domain.name()
                    + " given without MEM_RECLAIM (only memory-reclaim queues have a rescuer)");
        }
        if (domain.system() != this) {
            throw new IllegalArgumentException("workqueue " + name + ": rescuer domain " + domain.name()
                    + " belongs to another workqueue subsystem");
        }
    }

    // ------------------------------------------------------------------ rescuer domains

    /**
     * Creates a rescuer domain: one rescuer thread, started now through kthreadd, that will serve
     * every {@code MEM_RECLAIM} queue created in it. It lives until the subsystem closes.
     *
     * <p>Sharing is safe only for queues none of whose items waits, directly or through I/O or other
     * queues, on an item of another queue of the same domain: the shared rescuer runs one item at a
     * time. The analyzer ({@code ./rescuer analyze}) computes such a partition.
     *
     * @throws IllegalArgumentException for a blank name or one already used by a domain of this subsystem
     * @throws IllegalStateException if the subsystem is closing or closed
     */
    public RescuerDomain createRescuerDomain(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a rescuer domain needs a non-blank name");
        }
        if (domains.containsKey(name)) {
            throw new IllegalArgumentException("rescuer domain " + name + " already exists");
        }
        if (closing) {
            throw new IllegalStateException("workqueue subsystem is " + (closed ? "closed" : "closing")
                    + "; cannot create rescuer domain " + name);
        }
        RescuerDomain d = new RescuerDomain(this, name, new Rescuer(this, name));
        if (domains.putIfAbsent(name, d) != null) {
            d.rescuer().stop(Platform.NO_DEADLINE);
            throw new IllegalArgumentException("rescuer domain " + name + " already exists");
        }
        if (closing) { // a close that has begun either stops it in stopThreads or is seen here
            domains.remove(name, d);
            d.rescuer().stop(Platform.NO_DEADLINE);
            throw new IllegalStateException("workqueue subsystem is closing; cannot create rescuer domain " + name);
        }
        return d;
    }

    /**
     * Sets the rescuer domain that a {@code MEM_RECLAIM} queue called {@code queue}, created later
     * without an explicit domain, joins (created on first use): the administrator's knob, like a boot
     * parameter, that lets a plan from the analyzer be applied to code that creates its queues
     * itself. A queue created without {@code MEM_RECLAIM} ignores it. {@code null} removes the preset.
     *
     * @throws IllegalArgumentException for a blank queue or domain name
     */
    public void presetRescuerDomain(String queue, String domain) {
        if (queue == null || queue.isBlank()) {
            throw new IllegalArgumentException("a rescuer-domain preset needs a non-blank queue name");
        }
        if (domain == null) {
            presets.remove(queue);
        } else if (domain.isBlank()) {
            throw new IllegalArgumentException("rescuer-domain preset for queue " + queue + ": blank domain name");
        } else {
            presets.put(queue, domain);
        }
    }

    private RescuerDomain presetDomain(String queue, WqFlag[] flags) {
        String d = queue == null ? null : presets.get(queue);
        if (d == null || !Arrays.asList(flags).contains(WqFlag.MEM_RECLAIM)) {
            return null;
        }
        RescuerDomain existing = domains.get(d);
        return existing != null ? existing : createRescuerDomain(d);
    }

    /** The rescuer domain called {@code name}, or {@code null}. */
    public RescuerDomain rescuerDomain(String name) {
        return domains.get(name);
    }

    /** The rescuer domains, in no particular order. */
    public List<RescuerDomain> rescuerDomains() {
        return List.copyOf(domains.values());
    }

    /** Rescuer threads: one per {@code MEM_RECLAIM} queue outside any domain, plus one per domain. */
    public int rescuerThreads() {
        int n = domains.size();
        for (WorkQueue q : queues) {
            if (q.hasRescuer() && q.rescuerDomain() == null) {
                n++;
            }
        }
        return n;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a workqueue needs a non-blank name");
        }
    }

    private WorkQueue register(WorkQueue wq) {
        // Added before the test: a close that has begun either sees the queue in its snapshot (and
        // stops its rescuer) or is seen here.
        queues.add(wq);
        if (closing) {
            queues.remove(wq);
            wq.discard();
            throw new IllegalStateException("workqueue subsystem is " + (closed ? "closed" : "closing") + "; cannot create " + wq.name());
        }
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
        return new WorkqueueStats(queuedTotal(), executedTotal(), s.workFailures.sum(), s.workersCreated.sum(),
                s.workerCreationFailures.sum(), s.workersReaped.sum(), s.maydays.sum(), s.rescued.sum(),
                s.cpuIntensiveMarked.sum(), s.flushDependencyViolations.sum(), s.leaks.sum(), s.blockedOutside.sum());
    }

    /** Successful queueings so far, summed over the pools. */
    private long queuedTotal() {
        return sumOverPools(p -> p.nrQueued);
    }

    /** Items run so far (by workers, rescuers and BH contexts), summed over the pools. */
    private long executedTotal() {
        return sumOverPools(p -> p.nrExecuted);
    }

    /** The sum of {@code count} over every pool, each read under that pool's lock. */
    private long sumOverPools(java.util.function.ToLongFunction<WorkerPool> count) {
        long n = 0;
        for (WorkerPool p : allPools()) {
            p.lock.lock();
            try {
                p.drainInboxes(); // pushed items count as queued once linked
                n += count.applyAsLong(p);
            } finally {
                p.lock.unlock();
            }
        }
        return n;
    }

    /** Worker threads alive in all pools, not counting rescuers, kthreadd and softirq contexts. */
    public int workerCount() {
        return (int) sumOverPools(WorkerPool::nrWorkers);
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

    /**
     * Whether {@code body}, handed to {@link Platform#startThread}, is a pool worker's thread (one
     * {@code create_worker} starts), not a rescuer's, a softirq context's, kthreadd's or any other
     * task's, whatever its name. For fault injection aimed at worker creation (the kernel's
     * {@code failslab} with {@code task-filter} on the pools' kworkers).
     */
    public static boolean startsPoolWorker(Runnable body) {
        return body instanceof Worker w && !w.rescuer;
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
            pwq.drainInbox();
            Worker runner = p.busyHash.find(work);
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
            pwq.drainInbox();
            if (pwq.isInactive(work)) {
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
                pwq.drainInbox();
                addActive(pwq, out);
                pwq.addInactive(out);
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return out;
    }

    /** Adds the active items of {@code pwq}: running, then on the worklist or a worker's scheduled list. Pool lock held. */
    private static void addActive(PoolWorkqueue pwq, List<Work> out) {
        WorkerPool p = pwq.pool;
        List<Worker> busy = p.busyWorkersByName();
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

    /**
     * The kernel's {@code print_worker_info} line for a task: {@code "Workqueue: <queue> <item>"} if
     * it is a worker or rescuer running an item, else {@code null}. Advisory; for reports.
     */
    public static String describeWorker(Task task) {
        RunningWork r = runningWork(task);
        return r == null ? null : r.describe();
    }

    /**
     * What {@code task} runs as a worker or rescuer: its queue, item and whether it is the rescuer; or
     * {@code null} if it is no worker or runs nothing. Advisory; for reports.
     */
    public static RunningWork runningWork(Task task) {
        Worker w = currentWorker(task);
        if (w == null) {
            return null;
        }
        Work cur = w.currentWork;
        PoolWorkqueue pwq = w.currentPwq;
        return cur == null || pwq == null ? null : new RunningWork(pwq.wq.name(), cur.name(), w.rescuer);
    }

    /** The current task's CPU ({@code smp_processor_id}); see {@link #resolveCpu}. */
    int currentCpu() {
        return resolveCpu(CURRENT_CPU, platform.currentTask());
    }

    /** Stands for "the current task's CPU" in the queueing entry points. */
    static final int CURRENT_CPU = -1;

    /**
     * The CPU {@code cpu} names: itself, or for {@link #CURRENT_CPU} the CPU of task {@code t}, which is
     * its pool's CPU for a bound worker and otherwise, as the JVM does not say which CPU a thread runs
     * on, a fixed one per task: for a thread the platform adopted (a user's thread) its
     * {@linkplain Task#adoptionOrder() adoption order} modulo the CPU count, for any other task its id
     * modulo the CPU count. Adoption order rather than id for a user's threads, because ids are shared
     * with every worker and timer the platform starts: two user threads adopted one after the other,
     * which may well run at the same time (and two running threads run on two CPUs, each queueing on
     * its own, as {@code queue_work} does), would otherwise land on one CPU or on two by the accident
     * of how many workers were created in between. Tasks a simulator starts are never adopted.
     */
    int resolveCpu(int cpu, Task t) {
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
        long slot = t.isAdopted() ? t.adoptionOrder() : t.id();
        return (int) Math.floorMod(slot, (long) config.cpus());
    }

    /**
     * The item the current task is running as a worker or rescuer, or {@code null}
     * ({@code current_work}). Exact for the calling task: only it changes what it runs.
     */
    public Work currentWork() {
        Worker w = currentWorker(platform.currentTask());
        return w == null ? null : w.currentWork;
    }

    /**
     * The item {@code task} runs as a worker or rescuer (of any workqueue subsystem), or {@code null}.
     * Exact when {@code task} is the calling task (only it changes what it runs); advisory otherwise.
     * The validator's signal log uses it to name the item a signal came from.
     */
    public static Work runningItem(Task task) {
        Worker w = currentWorker(task);
        return w == null ? null : w.currentWork;
    }

    /** Whether the current task is a queue's rescuer ({@code current_is_workqueue_rescuer}). */
    public boolean currentIsRescuer() {
        Worker w = currentWorker(platform.currentTask());
        return w != null && w.rescuer;
    }

    /** Whether {@code t} is a worker, rescuer or BH context of this subsystem running an item. */
    boolean runsItemHere(Task t) {
        Worker w = currentWorker(t);
        return w != null && w.currentPwq != null && w.currentPwq.wq.system() == this;
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
                wq.activateUpToLimit();
            }
        }
    }

    boolean isFrozen() {
        return frozen;
    }

    boolean isClosing() {
        return closing;
    }

    boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------ flush dependency

    /**
     * The kernel's {@code check_flush_dependency}: a task on the reclaim path (a worker of a
     * {@code MEM_RECLAIM} queue, or a task in a {@code NORECLAIM} scope) must not wait for a queue
     * that has no rescuer, since that queue may need a new worker to make progress.
     */
    void checkFlushDependency(Task self, Worker cur, WorkQueue target, Work work) {
        if (target.hasRescuer()) {
            return;
        }
        String what = target.name() + (work == null ? "" : ":" + work.name());
        String msg = null;
        if ((self.memallocFlags() & MemallocScope.NORECLAIM) != 0) {
            msg = "workqueue: PF_MEMALLOC task " + self.id() + "(" + self.name() + ") is flushing !WQ_MEM_RECLAIM " + what;
        } else if (cur != null && cur.currentPwq != null && cur.currentPwq.wq.hasRescuer()) {
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

    // ------------------------------------------------------------------ shutdown

    /**
     * Closes the subsystem and waits as long as that takes; see {@link #close(Duration)}.
     */
    @Override
    public void close() {
        closeUntil(Platform.NO_DEADLINE, null);
    }

    /**
     * Closes the subsystem: from the call on, queueing from outside its running items is refused
     * ({@link IllegalStateException}; {@code execute} throws {@code RejectedExecutionException});
     * delayed items still on their timers are queued at once; every accepted item runs (the queues
     * are drained together, chained queueing allowed); then queueing is refused altogether and every
     * worker, rescuer, softirq context and kthreadd is stopped and joined. Calling it again after it
     * timed out continues where it stopped; after it finished, it returns at once.
     *
     * @throws WorkqueueTimeoutException if that does not finish within {@code timeout}; its message
     *     carries {@link #dump()} of what is still queued or running
     * @throws IllegalStateException if called from one of this subsystem's items, which it would wait for
     */
    public void close(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("close timeout must be >= 0, got " + timeout);
        }
        closeUntil(platform.deadlineAfter(timeout), timeout);
    }

    private void closeUntil(long deadline, Duration timeout) {
        if (stopped) {
            return;
        }
        Task self = platform.currentTask();
        Worker cur = currentWorker(self);
        if (cur != null && (cur.pool == null ? cur.rescuer : cur.pool.sys == this)) {
            throw new IllegalStateException("close of the workqueue subsystem from " + cur.name
                    + " (one of its own threads) would wait for itself");
        }
        self.checkMaySleep(systemWq, "workqueues close");
        closeMutex.lock(); // one closer at a time; a second one waits, then finds the work done
        try {
            closeLocked(deadline, timeout);
        } finally {
            closeMutex.unlock();
        }
    }

    private void closeLocked(long deadline, Duration timeout) {
        if (stopped) {
            return;
        }
        closing = true;
        for (WorkQueue wq : queues()) {
            wq.closeInboxesForClose(); // producers now take the locked path, which refuses them
        }
        if (!closed) {
            for (WorkQueue wq : queues()) {
                wq.fireArmedDelayed();
            }
            if (!quiesce(deadline)) {
                throw new WorkqueueTimeoutException("workqueue subsystem close did not finish within " + timeout
                        + ": items are still queued or running; queueing stays refused, and close() may be called again\n"
                        + dump());
            }
            closed = true;
        }
        if (!stopThreads(deadline)) {
            throw new WorkqueueTimeoutException("workqueue subsystem close did not finish within " + timeout
                    + ": threads did not exit\n" + dump());
        }
        stopped = true;
    }

    /**
     * Flushes every queue until a pass finds them all empty with no timer armed or firing and no
     * queueing in between (the queueing count did not move), which is stable: while closing only a
     * running item or a firing timer may queue.
     */
    private boolean quiesce(long deadline) {
        while (true) {
            long before = queuedTotal();
            boolean quiet = true;
            for (WorkQueue wq : queues()) {
                if (!wq.isQuiet()) {
                    quiet = false;
                    if (!wq.flushUntil(deadline)) {
                        return false;
                    }
                }
            }
            if (quiet && queuedTotal() == before) {
                return true;
            }
            platform.cpuRelax(); // a queueing or a timer callback may be half way: let it finish
            if (deadline != Platform.NO_DEADLINE && platform.nanoTime() - deadline >= 0) {
                return false;
            }
        }
    }

    /** Stops kthreadd, rescuers, workers and softirq contexts, waiting for each until {@code deadline}. */
    private boolean stopThreads(long deadline) {
        tick.stop();
        if (watchdog != null) {
            watchdog.stop();
        }
        if (!kthreadd.stop(deadline)) { // no thread is created from here on; managers give up
            return false;
        }
        for (WorkQueue wq : queues()) {
            if (wq.rescuer != null && wq.rescuerDomain() == null && !wq.rescuer.stop(deadline)) {
                return false;
            }
        }
        for (RescuerDomain d : domains.values()) {
            if (!d.rescuer().stop(deadline)) {
                return false;
            }
        }
        List<Worker> all = new ArrayList<>(leftToJoin);
        for (WorkerPool p : allPools()) {
            p.maydayTimer.cancelSync();
            p.idleTimer.cancelSync();
            if (!p.bh) {
                all.addAll(p.stopAll());
            }
        }
        leftToJoin.clear();
        for (int i = 0; i < all.size(); i++) {
            if (!all.get(i).join(deadline)) {
                leftToJoin.addAll(all.subList(i, all.size()));
                return false;
            }
        }
        for (Softirq s : softirqs) {
            if (!s.stop(deadline)) {
                return false;
            }
        }
        return true;
    }

    /** Workers told to die by a close that timed out before they exited; joined by the next close. */
    private final List<Worker> leftToJoin = new ArrayList<>(); // guarded by closeMutex
}
