package dev.rescuer.core.wq;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.sync.RawSpinLock;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A workqueue with the Linux kernel's semantics, created by {@link Workqueues#create} or
 * {@link Workqueues#createOrdered}.
 *
 * <p>Items queued here run on the system's shared worker pools: the per-CPU pools (normal or
 * {@link WqFlag#HIGHPRI}), the unbound pools ({@link WqFlag#UNBOUND}) or the per-CPU BH contexts
 * ({@link WqFlag#BH}). {@code maxActive} limits how many of this queue's items may be active per
 * pool at once (for an unbound queue: in total); further items wait on an inactive list in queueing
 * order. An ordered queue runs one item at a time, in queueing order.
 *
 * <p>Operations and guarantees:
 * <ul>
 *   <li>{@link #queue} returns {@code false} if the item is already pending; see {@link Work} for
 *       non-reentrancy. Work that cannot run is refused at the call with
 *       {@link IllegalStateException}, never accepted and dropped: queueing on a destroyed queue, on
 *       a draining one from outside its own items, from outside the subsystem's running items once
 *       {@link Workqueues#close()} has begun, and from anywhere once it has finished.
 *   <li>{@link #flush()} waits for every item queued before the call; later arrivals cannot keep it
 *       waiting, even while other flushes are in progress: a flusher's color is fixed on arrival.
 *       {@link #drain()} waits until the queue is empty, allowing only its own items to
 *       queue more. {@link #destroy()} drains, stops the rescuer and refuses further queueing; it
 *       refuses to run while delayed items are still on their timers, and while it runs (as while a
 *       drain runs) a delayed queueing with a non-zero delay is refused. {@link #destroy(Duration)}
 *       bounds the wait.
 *   <li>{@link #setMaxActive}, {@link #congested} and {@link Work#busy()} follow
 *       {@code workqueue_set_max_active}, {@code workqueue_congested} and {@code work_busy}.
 *   <li>A {@link WqFlag#MEM_RECLAIM} queue owns a rescuer thread (see {@link Rescuer}), or, created
 *       in a {@link RescuerDomain}, shares that domain's one rescuer with the domain's other queues.
 *   <li>{@code check_flush_dependency}: a memory-reclaim worker, or a task in a {@code NORECLAIM}
 *       scope, flushing a queue without {@code MEM_RECLAIM} (or an item on one) is reported; flushing
 *       a queue from one of its own items, or an item from itself, can never finish and throws.
 * </ul>
 * It is also an {@link Executor}: each {@code execute} queues a fresh item; {@link #asExecutorService()}
 * gives an {@link java.util.concurrent.ExecutorService} over it. An item that throws is logged,
 * counted and passed to the {@linkplain #setFailureHandler failure handler}.
 *
 * <p>Locking legend: {@code FL} = guarded by {@code flushLock} (a raw spin lock; taken before any pool
 * lock, never while holding one); {@code DL} = guarded by {@code delayedLock} (a raw spin lock too;
 * the inboxes are closed and reopened under it, so it is taken before pool locks, never while
 * holding one). Flush colors: the
 * current work color is {@code workSeq % NR_COLORS}; every color with a sequence number below
 * {@code flushedSeq} has drained; colors in between are being flushed. A flusher takes
 * {@code workSeq} as its color on arrival and moves every pwq to the next one, then waits until
 * {@code flushedSeq} passes its own, advancing it over drained colors as it looks (the kernel's
 * flusher queue, {@code __flush_workqueue}, without a designated first flusher). When all colors are
 * in use a new flusher waits for one to drain first (the kernel's {@code flusher_overflow}).
 *
 * <p>Memory ordering: {@code maxActive}, {@code destroying} and {@code destroyed} are volatile,
 * written by the owner of the operation and read under pool locks by queuers; {@code drainers} is
 * atomic. A queuer's refusal test and {@code drain}'s emptiness test both run under the pool lock,
 * so a queueing is either refused or seen. A producer on a per-CPU, non-ordered queue first tries
 * the pwq's lock-free inbox ({@link PoolWorkqueue}); drain, destroy and close close every inbox
 * (under {@code delayedLock}, which also orders the reopening when the last drain ends) before they
 * look, so a push either lands before the close, and is linked and waited for, or finds the inbox
 * closed and takes the locked path, which refuses it under the lock.
 */
public final class WorkQueue extends AbstractPrimitive implements Executor {

    /** The start of every queue's lockdep class, {@code (wq_completion)<name>}, as {@code alloc_workqueue} names its map. */
    public static final String CLASS_PREFIX = "(wq_completion)";

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    private final Workqueues sys;
    private final String name;
    /** {@code (wq_completion)name}, built once: the validator asks for it on every item run. */
    private final String lockClass;
    private final String executeName;
    private final Set<WqFlag> flags;
    private final boolean ordered;
    /** {@link WqFlag#CPU_INTENSIVE} and {@link WqFlag#FREEZABLE}, read once per item: kept apart from the set. */
    private final boolean cpuIntensive;
    private final boolean freezable;
    private volatile int maxActive;
    private final PoolWorkqueue[] pwqs; // per CPU, or one for unbound
    /** Its private rescuer, its domain's shared one, or {@code null} without {@code MEM_RECLAIM}. */
    final Rescuer rescuer;
    /** The rescuer domain it was created in, or {@code null} for a private rescuer (or none). */
    private final RescuerDomain domain;
    private final RawSpinLock flushLock = new RawSpinLock();
    private long workSeq;      // FL
    private long flushedSeq;   // FL
    private final WaitQueue flushWait;
    private final RawSpinLock delayedLock = new RawSpinLock();
    /** Delayed items whose timer is armed for this queue; added under DL, removed by the PENDING owner. */
    private final Set<DelayedWork> armedDelayed = ConcurrentHashMap.newKeySet();
    /** Timer callbacks (or early fires) between taking an item off its timer and linking it. */
    private final AtomicInteger firing = new AtomicInteger();
    /** Tasks draining the queue right now; while non-zero only chained queueing is allowed. */
    private final AtomicInteger drainers = new AtomicInteger();
    private volatile boolean destroying; // written under DL
    private volatile boolean destroyed;
    /** The owner's failure handler, or {@code null}. Volatile: set by the owner, read by whichever task ran the item. */
    private volatile WorkFailureHandler failureHandler;

    WorkQueue(Workqueues sys, String name, Set<WqFlag> flags, int maxActive, boolean ordered, RescuerDomain domain) {
        this.sys = sys;
        this.name = name;
        this.lockClass = CLASS_PREFIX + name;
        this.executeName = name + "/execute";
        this.flags = Collections.unmodifiableSet(flags.isEmpty() ? EnumSet.noneOf(WqFlag.class) : EnumSet.copyOf(flags));
        this.ordered = ordered;
        this.cpuIntensive = flags.contains(WqFlag.CPU_INTENSIVE);
        this.freezable = flags.contains(WqFlag.FREEZABLE);
        this.maxActive = maxActive;
        boolean high = flags.contains(WqFlag.HIGHPRI);
        if (flags.contains(WqFlag.UNBOUND)) {
            pwqs = new PoolWorkqueue[] {new PoolWorkqueue(this, sys.unboundPool(high), false)};
        } else {
            // The lock-free inbox needs a pool whose running workers come back for it (concurrency
            // managed, so not unbound or BH) and a limit that is not the queue's point (not ordered),
            // and no freezing (the frozen limit is read on the locked path only).
            boolean inbox = !ordered && !freezable && !flags.contains(WqFlag.BH);
            pwqs = new PoolWorkqueue[sys.cpus()];
            for (int cpu = 0; cpu < pwqs.length; cpu++) {
                pwqs[cpu] = new PoolWorkqueue(this, flags.contains(WqFlag.BH) ? sys.bhPool(cpu, high) : sys.cpuPool(cpu, high), inbox);
            }
        }
        this.flushWait = new WaitQueue(sys.platform(), CLASS_PREFIX + name, "wq_completion");
        this.domain = domain;
        this.rescuer = domain != null ? domain.rescuer() : flags.contains(WqFlag.MEM_RECLAIM) ? new Rescuer(sys, name) : null;
        if (domain != null) {
            domain.join(this);
        }
    }

    Workqueues system() {
        return sys;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String lockClass() {
        return lockClass;
    }

    @Override
    public String kind() {
        return "workqueue";
    }

    /**
     * Whether this queue runs its items one at a time, always: an ordered or {@code maxActive == 1}
     * queue. A running item then holds the queue's pseudo-lock exclusively for the validator, so an
     * item that waits for something only a later item of its queue provides is a cycle.
     */
    boolean serializesItems() {
        return ordered || maxActive == 1;
    }

    /**
     * Whether {@code flush_work} on one of this queue's items also waits on the queue's pseudo-lock:
     * when it {@linkplain #serializesItems() serializes items}, or has a rescuer, which alone runs
     * them, one at a time, under memory pressure ({@code start_flush_work} takes
     * {@code wq->lockdep_map} in exactly these cases). Public for the validator, which treats a wait
     * for an item of this queue as such a flush.
     */
    public boolean flushWaitsOnQueue() {
        return serializesItems() || rescuer != null;
    }

    /**
     * Whether an item queued here may have to wait for a worker to be created, and creating one may
     * enter reclaim: the queue has no rescuer and the platform's thread start may reclaim
     * ({@link dev.rescuer.core.platform.Platform#threadStartMayReclaim()}; {@code create_worker}
     * allocates with {@code GFP_KERNEL}). For the validator: such an item depends on {@code fs_reclaim}.
     * A BH item never waits for a worker; that is its caller's to exclude.
     */
    public boolean itemsMayWaitForReclaim() {
        return rescuer == null && sys.platform().threadStartMayReclaim();
    }

    /**
     * lockdep's annotations in {@code process_one_work}, reported before {@code work} runs on
     * {@code self}: where the queue's rescuer is a {@link RescuerDomain}'s, the dependency of its items
     * on the domain's pseudo-lock {@code (wq_rescuer)<domain>} (with no worker to be had, only that
     * rescuer runs them, one item of any member at a time), recorded before the item's context
     * begins; a new signalling context; where the queue has no rescuer and starting a worker may
     * enter reclaim, the dependency of its items on {@code fs_reclaim}; then the queue's pseudo-lock
     * (exclusive where {@link #serializesItems()}, recursive otherwise), the domain's (recursive: the
     * item could be running on the shared rescuer, and only what waits for a member's item waits for
     * it) and the item's (recursive: other items of its class run alongside it; only a flush of it
     * waits for it). The kernel takes the maps exclusively, but it tracks no waits on events, through
     * which two items of one class would then look like a cycle; see docs/VALIDATOR.md.
     */
    void lockdepBeginItem(LockEvents ev, Task self, Work work, boolean bh) {
        if (domain != null) {
            // An item may have to wait for the shared rescuer (send_mayday, rescuer_thread). The queue is
            // taken recursive here: a flush of it (exclusive) waits through this edge, a class-level
            // signal from one of its items (recursive, as the item holds it) does not. Recorded before
            // the item's context begins, so that the item's signals do not count it as done by the item.
            ev.acquire(self, this, LockEvents.RECURSIVE, 0, true);
            ev.acquire(self, domain, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, domain);
            ev.release(self, this);
        }
        ev.contextBoundary(self);
        if (!bh && itemsMayWaitForReclaim()) {
            // An item may wait for a worker to be created, and creating one allocates (create_worker).
            ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, true);
            ev.acquire(self, LockEvents.FS_RECLAIM, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, LockEvents.FS_RECLAIM);
            ev.release(self, this);
        }
        ev.acquire(self, this, serializesItems() ? LockEvents.EXCLUSIVE : LockEvents.RECURSIVE, 0, false);
        if (domain != null) {
            ev.acquire(self, domain, LockEvents.RECURSIVE, 0, false);
        }
        ev.acquire(self, work, LockEvents.RECURSIVE, 0, false);
    }

    /** The releases matching {@link #lockdepBeginItem}, after {@code work} ran, and the context's end. */
    void lockdepEndItem(LockEvents ev, Task self, Work work) {
        ev.release(self, work);
        if (domain != null) {
            ev.release(self, domain);
        }
        ev.release(self, this);
        ev.contextBoundary(self);
    }

    /** The queue's flags. */
    public Set<WqFlag> flags() {
        return flags;
    }

    /** Whether it runs one item at a time in queueing order. */
    public boolean isOrdered() {
        return ordered;
    }

    /** The per-pool limit on active items. */
    public int maxActive() {
        return maxActive;
    }

    /**
     * Changes the per-pool limit on active items ({@code workqueue_set_max_active}), clamped into
     * {@code [1, MAX_ACTIVE]} with a warning as {@code wq_clamp_max_active} does. A higher limit
     * activates waiting inactive items at once; a lower one takes effect as active items finish.
     *
     * @throws IllegalStateException for an ordered queue (one at a time is its guarantee) or a BH queue
     */
    public void setMaxActive(int maxActive) {
        if (ordered || flags.contains(WqFlag.BH)) {
            throw new IllegalStateException("workqueue " + name + ": maxActive of " + (ordered ? "an ordered" : "a BH")
                    + " queue cannot be changed");
        }
        this.maxActive = Workqueues.clampMaxActive(maxActive, name);
        activateUpToLimit();
    }

    /** Activates inactive items on every pwq up to the current limit (after a raise or a thaw). */
    void activateUpToLimit() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.drainInbox();
                pwq.activateUpToLimit();
            } finally {
                pwq.pool.lock.unlock();
            }
        }
    }

    /**
     * Whether items of this queue wait for an active slot on {@code cpu}'s pool
     * ({@code workqueue_congested}): its inactive list there is not empty. Advisory and racy, as in
     * the kernel: the answer may be stale by the time it is used.
     *
     * @param cpu a CPU, or -1 for the calling task's CPU; ignored for an unbound queue
     */
    public boolean congested(int cpu) {
        if (cpu != Workqueues.CURRENT_CPU) {
            checkCpu(cpu);
        }
        PoolWorkqueue pwq = pwqFor(sys.resolveCpu(cpu, sys.platform().currentTask()));
        pwq.pool.lock.lock();
        try {
            pwq.drainInbox();
            return pwq.hasInactive();
        } finally {
            pwq.pool.lock.unlock();
        }
    }

    /**
     * Whether the queue has a rescuer: exactly when it was created with {@link WqFlag#MEM_RECLAIM}
     * (the kernel's {@code wq->rescuer}, tested wherever it asks {@code WQ_MEM_RECLAIM}); the rescuer
     * is its own, or its {@linkplain #rescuerDomain() domain's}.
     */
    public boolean hasRescuer() {
        return rescuer != null;
    }

    /** The rescuer's task (its own, or its domain's shared one), or {@code null}. */
    public Task rescuerTask() {
        return rescuer == null ? null : rescuer.task();
    }

    /** The rescuer domain the queue was created in, or {@code null} if its rescuer is its own (or it has none). */
    public RescuerDomain rescuerDomain() {
        return domain;
    }

    /** Stops the rescuer if it is the queue's own; a domain's rescuer lives until the subsystem closes. */
    private void stopOwnRescuer() {
        if (domain != null) {
            domain.leave(this);
        } else if (rescuer != null) {
            rescuer.stop(Platform.NO_DEADLINE);
        }
    }

    boolean isCpuIntensive() {
        return cpuIntensive;
    }

    boolean isDestroyed() {
        return destroyed;
    }

    /** Whether only chained queueing is allowed (draining or being destroyed). */
    boolean isDraining() {
        return drainers.get() != 0 || destroying;
    }

    /** The effective limit, which is zero for a freezable queue while the system is frozen. */
    int effectiveMaxActive() {
        return freezable && sys.isFrozen() ? 0 : maxActive;
    }

    PoolWorkqueue pwqFor(int cpu) {
        return pwqs.length == 1 ? pwqs[0] : pwqs[Math.floorMod(cpu, pwqs.length)];
    }

    PoolWorkqueue[] pwqs() {
        return pwqs;
    }

    void sendMayday(PoolWorkqueue pwq) {
        if (rescuer != null) {
            rescuer.sendMayday(pwq);
        }
    }

    // ------------------------------------------------------------------ queueing

    /**
     * Queues {@code work} on the current CPU's pool ({@code queue_work}). The JVM does not say which
     * CPU a thread runs on, so "current" is fixed per task: a worker's is its pool's CPU; a user's
     * thread takes the CPUs in turn, in the order the platform first saw the threads (so two
     * threads that start queueing one after the other queue to two pools, as two threads running at
     * once would in the kernel); any other task's follows its id. {@link #queueOn} chooses the CPU.
     *
     * @return {@code false} if it was already pending or is disabled
     * @throws IllegalStateException if the queue is destroyed, or draining and the caller is not one
     *     of its own items, or the subsystem is closing (and the caller is not one of its running
     *     items) or closed
     */
    public boolean queue(Work work) {
        return queueOnCpu(Workqueues.CURRENT_CPU, work);
    }

    /** Queues {@code work} on {@code cpu}'s pool ({@code queue_work_on}); see {@link #queue}. */
    public boolean queueOn(int cpu, Work work) {
        checkCpu(cpu);
        return queueOnCpu(cpu, work);
    }

    /**
     * Queues {@code work} after {@code delay} ({@code queue_delayed_work}); a zero delay queues it now.
     *
     * @return {@code false} if it was already pending or is disabled
     * @throws IllegalStateException as {@link #queue}; and for a non-zero delay also while the queue
     *     drains or is being destroyed, or the subsystem closes, since the timer could not queue then
     */
    public boolean queueDelayed(DelayedWork work, Duration delay) {
        return queueDelayedOnCpu(Workqueues.CURRENT_CPU, work, delay);
    }

    /** Like {@link #queueDelayed}, on {@code cpu}'s pool. */
    public boolean queueDelayedOn(int cpu, DelayedWork work, Duration delay) {
        checkCpu(cpu);
        return queueDelayedOnCpu(cpu, work, delay);
    }

    /**
     * Queues {@code work} after {@code delay}, replacing a pending queueing ({@code mod_delayed_work}).
     *
     * @return whether it was pending before
     */
    public boolean modDelayed(DelayedWork work, Duration delay) {
        return modDelayedOnCpu(Workqueues.CURRENT_CPU, work, delay);
    }

    private void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= sys.cpus()) {
            throw new IllegalArgumentException("cpu " + cpu + " out of range [0, " + sys.cpus() + ")");
        }
    }

    /**
     * Queues {@code command} as a fresh work item.
     *
     * @throws RejectedExecutionException where {@link #queue} would throw {@link IllegalStateException}
     */
    @Override
    public void execute(Runnable command) {
        if (command == null) {
            throw new NullPointerException("command");
        }
        try {
            queue(new Work(executeName, command));
        } catch (IllegalStateException e) {
            throw new RejectedExecutionException(e.getMessage(), e);
        }
    }

    /**
     * A new {@link java.util.concurrent.ExecutorService} over this queue: {@code submit} with futures,
     * {@code shutdown}, {@code shutdownNow}, {@code awaitTermination}, {@code invokeAll} and
     * {@code invokeAny}, every wait through the platform. Each call returns a service with a
     * lifecycle of its own; shutting it down does not destroy the queue. See
     * {@link WorkQueueExecutorService}.
     */
    public WorkQueueExecutorService asExecutorService() {
        return new WorkQueueExecutorService(this);
    }

    /**
     * Installs (or, with {@code null}, removes) the handler told about every item of this queue that
     * throws; see {@link WorkFailureHandler} for where and how it runs. Items that throw are logged
     * and counted either way. Takes effect for items that finish after the call.
     */
    public void setFailureHandler(WorkFailureHandler handler) {
        this.failureHandler = handler;
    }

    /** The installed failure handler, or {@code null}. */
    public WorkFailureHandler failureHandler() {
        return failureHandler;
    }

    /**
     * Tells the failure handler, if any, that {@code work} threw {@code failure} in {@code self}, in
     * atomic context for a BH item. No pool lock held. The handler's own exceptions are logged.
     */
    void reportFailure(Work work, Throwable failure, Task self, boolean bh, String runner) {
        WorkFailureHandler handler = failureHandler;
        if (handler == null) {
            return;
        }
        if (bh) {
            self.enterAtomic();
        }
        try {
            handler.failed(work, failure);
        } catch (TaskAbortedError aborted) {
            throw aborted;
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "the failure handler of workqueue " + name + " threw for work " + work.name()
                    + " in " + runner + "; ignored", t);
        } finally {
            if (bh) {
                self.exitAtomic();
            }
        }
    }

    // ------------------------------------------------------------------ flush, drain, destroy

    /**
     * Waits for every item queued before this call to finish ({@code flush_workqueue}). Items queued
     * after the call, including while other flushes are in progress, do not keep it waiting.
     *
     * @throws IllegalStateException if called from one of this queue's own items
     */
    public void flush() {
        flushUntil(Platform.NO_DEADLINE);
    }

    /**
     * Like {@link #flush()}, giving up at {@code deadline} (a platform time).
     *
     * @return whether everything queued before the call finished
     */
    boolean flushUntil(long deadline) {
        Platform platform = sys.platform();
        Task self = platform.currentTask();
        self.checkMaySleep(this, "flush_workqueue");
        Worker cur = Workqueues.currentWorker(self);
        if (cur != null && cur.currentPwq != null && cur.currentPwq.wq == this) {
            throw new IllegalStateException("flush of workqueue " + name + " from its own item " + cur.currentWork.name()
                    + " in " + cur.name + " can never finish");
        }
        sys.checkFlushDependency(self, cur, this, null);
        LockEvents ev = platform.lockEvents();
        if (ev != null) { // __flush_workqueue: lock_map_acquire(&wq->lockdep_map), then release
            ev.acquire(self, this, LockEvents.EXCLUSIVE, 0, false);
            ev.release(self, this);
        }
        platform.preemptionPoint(); // before the color is taken
        long color;
        while ((color = takeFlushColor()) < 0) {
            // Every color is being flushed (the kernel's flusher_overflow): wait for the oldest to drain.
            if (!flushWait.waitEventUntil(this::colorFree, deadline)) {
                return false;
            }
        }
        platform.preemptionPoint(); // the color is fixed; later items take the next one
        final long mine = color;
        return flushWait.waitEventUntil(() -> flushedPast(mine), deadline);
    }

    /**
     * Takes the current work color for a flusher and moves every pwq to the next color
     * ({@code flush_workqueue_prep_pwqs}).
     *
     * @return the flusher's color sequence number, or -1 if all colors are in use
     */
    private long takeFlushColor() {
        flushLock.lock();
        try {
            advanceFlushed();
            if (workSeq + 1 - flushedSeq >= PoolWorkqueue.NR_COLORS) {
                return -1;
            }
            long mine = workSeq++;
            int next = (int) (workSeq % PoolWorkqueue.NR_COLORS);
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock.lock();
                try {
                    pwq.drainInbox(); // items pushed before this flush take the color it waits for
                    pwq.setWorkColor(next);
                } finally {
                    pwq.pool.lock.unlock();
                }
            }
            return mine;
        } finally {
            flushLock.unlock();
        }
    }

    /** Moves {@code flushedSeq} over every drained color older than the work color. FL. */
    private void advanceFlushed() {
        assert flushLock.isHeldByCurrentThread();
        while (flushedSeq < workSeq && colorDrained((int) (flushedSeq % PoolWorkqueue.NR_COLORS))) {
            flushedSeq++;
        }
    }

    /** Whether every color up to {@code seq} has drained. Never sleeps. */
    private boolean flushedPast(long seq) {
        flushLock.lock();
        try {
            advanceFlushed();
            return flushedSeq > seq;
        } finally {
            flushLock.unlock();
        }
    }

    /** Whether a flusher could take a color now. Never sleeps. */
    private boolean colorFree() {
        flushLock.lock();
        try {
            advanceFlushed();
            return workSeq + 1 - flushedSeq < PoolWorkqueue.NR_COLORS;
        } finally {
            flushLock.unlock();
        }
    }

    /** Whether no item of {@code color} is in flight on any pwq. FL. */
    private boolean colorDrained(int color) {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.drainInbox();
                if (!pwq.colorDrained(color)) {
                    return false;
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return true;
    }

    /** A color drained: flushers re-check. Called without pool locks. */
    void wakeFlushers() {
        if (flushWait.hasWaiters()) {
            flushWait.wakeUpAll();
        }
    }

    private boolean isEmpty() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                pwq.drainInbox();
                if (!pwq.isIdle()) {
                    return false;
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return true;
    }

    /**
     * Whether nothing of this queue is queued, running, on a timer or being fired off one. The
     * timers are looked at first: a firing callback counts itself before it leaves the armed set.
     */
    boolean isQuiet() {
        return armedDelayed.isEmpty() && firing.get() == 0 && isEmpty();
    }

    /**
     * Flushes until the queue is empty ({@code drain_workqueue}). Meanwhile only the queue's own items
     * may queue to it, and delayed queueing with a non-zero delay is refused. Warns if it takes more
     * than 10 flushes, then every 100.
     */
    public void drain() {
        drainUntil(Platform.NO_DEADLINE);
    }

    private boolean drainUntil(long deadline) {
        delayedLock.lock();
        try {
            drainers.incrementAndGet(); // under DL: a delayed queueing is refused or was armed before
            closeInboxes(); // from here on producers take the locked path, which refuses them
        } finally {
            delayedLock.unlock();
        }
        try {
            int tries = 0;
            while (true) {
                if (!flushUntil(deadline)) {
                    return false;
                }
                // A timer callback between its timer and the list is accepted work too: read the
                // firing count first, then the pwqs (it counts itself before it leaves the timer).
                if (firing.get() != 0) {
                    sys.platform().cpuRelax(); // it links the item within a few instructions
                    continue;
                }
                if (isEmpty()) {
                    return true;
                }
                tries++;
                if (tries == 10 || (tries % 100 == 0 && tries <= 1000)) {
                    LOG.log(Level.WARNING, "workqueue " + name + ": drain_workqueue() isn't complete after " + tries + " tries");
                }
            }
        } finally {
            delayedLock.lock();
            try {
                drainers.decrementAndGet();
                reopenInboxesIfAccepting();
            } finally {
                delayedLock.unlock();
            }
        }
    }

    /**
     * Closes every pwq's inbox, linking what it held: producers then take the locked path, where the
     * refusal test runs under the pool lock (see {@link PoolWorkqueue}). DL, so that it is ordered
     * against {@link #reopenInboxesIfAccepting()}.
     */
    private void closeInboxes() {
        assert delayedLock.isHeldByCurrentThread();
        forEachInbox(PoolWorkqueue::closeInbox);
    }

    /** Opens the inboxes again once nothing refuses queueing: no drain, no destroy, no close. DL. */
    private void reopenInboxesIfAccepting() {
        assert delayedLock.isHeldByCurrentThread();
        if (drainers.get() == 0 && !destroying && !destroyed && !sys.isClosing()) {
            forEachInbox(PoolWorkqueue::reopenInbox);
        }
    }

    /** Runs {@code op} on every pwq that has an inbox, under its pool's lock. */
    private void forEachInbox(Consumer<PoolWorkqueue> op) {
        for (PoolWorkqueue pwq : pwqs) {
            if (pwq.usesInbox()) {
                pwq.pool.lock.lock();
                try {
                    op.accept(pwq);
                } finally {
                    pwq.pool.lock.unlock();
                }
            }
        }
    }

    /** The subsystem is closing ({@code closing} is already set): producers must take the locked path. */
    void closeInboxesForClose() {
        delayedLock.lock();
        try {
            closeInboxes();
        } finally {
            delayedLock.unlock();
        }
    }

    /** A destroy gave up: the queue is usable again, as before the call. */
    private void abandonDestroy() {
        delayedLock.lock();
        try {
            destroying = false;
            reopenInboxesIfAccepting();
        } finally {
            delayedLock.unlock();
        }
    }

    /**
     * Drains the queue, stops its rescuer and retires it ({@code destroy_workqueue}); queueing on it
     * afterwards throws. Waits as long as that takes; see {@link #destroy(Duration)}.
     *
     * @throws IllegalStateException if it is already destroyed, or delayed items are still on timers
     */
    public void destroy() {
        destroyUntil(Platform.NO_DEADLINE, null);
    }

    /**
     * Like {@link #destroy()}, giving up after {@code timeout}. On a timeout the exception carries
     * {@link Workqueues#dump()}; the queue is then not destroyed but left as before the call (usable,
     * and {@code destroy} may be called again).
     *
     * @throws WorkqueueTimeoutException if the queue did not drain within {@code timeout}
     * @throws IllegalStateException as {@link #destroy()}
     */
    public void destroy(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new IllegalArgumentException("destroy timeout must be >= 0, got " + timeout);
        }
        destroyUntil(sys.platform().deadlineAfter(timeout), timeout);
    }

    private void destroyUntil(long deadline, Duration timeout) {
        String refusal;
        delayedLock.lock();
        try {
            refusal = destroyRefusal();
            if (refusal == null) {
                destroying = true; // under DL: no timer can be armed for this queue from here on
            }
        } finally {
            delayedLock.unlock();
        }
        if (refusal != null) {
            throw new IllegalStateException(refusal);
        }
        boolean drained;
        try {
            drained = drainUntil(deadline);
        } catch (RuntimeException | Error e) {
            // Refused before anything was waited for (from one of its own items, from atomic
            // context, a flush-dependency error): leave the queue as it was.
            abandonDestroy();
            throw e;
        }
        if (!drained) {
            abandonDestroy();
            throw new WorkqueueTimeoutException("destroy of workqueue " + name + " did not finish within " + timeout
                    + ": items are still queued or running\n" + sys.dump());
        }
        stopOwnRescuer();
        destroyed = true;
        forEachInbox(PoolWorkqueue::retire); // a pool that never idles would keep them watched for ever
        sys.unregister(this);
    }

    /** Why destroy cannot start now, or {@code null}. DL. */
    private String destroyRefusal() {
        if (destroyed || destroying) {
            return "workqueue " + name + " is already destroyed";
        }
        List<String> armed = new ArrayList<>();
        for (DelayedWork dw : armedDelayed) {
            armed.add(dw.name());
        }
        if (armed.isEmpty()) {
            return null;
        }
        Collections.sort(armed);
        return "cannot destroy workqueue " + name + ": " + armed.size() + " delayed work item(s) are still on their timers ("
                + String.join(", ", armed) + "); cancel them first";
    }

    // ------------------------------------------------------------------ delayed items' timers

    /**
     * Arms {@code work}'s timer for this queue, unless the queue is draining, being destroyed or
     * destroyed, or the subsystem is closing: a timer firing then could not queue.
     *
     * @return why it was refused, or {@code null} if armed
     */
    String armDelayed(DelayedWork work, Duration delay) {
        delayedLock.lock();
        try {
            if (destroyed) {
                return "it was destroyed";
            }
            if (destroying || drainers.get() != 0) {
                return "it is draining or being destroyed, and a delayed queueing could not run";
            }
            if (sys.isClosing()) {
                return "the workqueue subsystem is closing";
            }
            armedDelayed.add(work);
            work.timer.arm(delay);
            return null;
        } finally {
            delayedLock.unlock();
        }
    }

    /** A cancel took {@code work} off its timer. */
    void disarmed(DelayedWork work) {
        armedDelayed.remove(work);
    }

    /** A timer fired (or a flush fired it early): counted as firing until {@link #endFiring()}. */
    void beginFiring(DelayedWork work) {
        firing.incrementAndGet();
        armedDelayed.remove(work);
    }

    void endFiring() {
        firing.decrementAndGet();
    }

    /** Queues every delayed item on a timer for this queue at once (the subsystem is closing). */
    void fireArmedDelayed() {
        for (DelayedWork dw : new ArrayList<>(armedDelayed)) {
            fireDelayedNow(dw);
        }
    }

    /** Stops the own rescuer of a queue that was never registered (created while the subsystem closed). */
    void discard() {
        destroyed = true;
        stopOwnRescuer();
    }

    // ------------------------------------------------------------------ the queueing path (__queue_work)

    /** {@code queue_work_on}: claims PENDING and links the item, or returns {@code false}. */
    private boolean queueOnCpu(int cpu, Work work) {
        if (work == null) {
            throw new NullPointerException("work");
        }
        return claimAndLink(cpu, work, null);
    }

    /**
     * Claims PENDING, then links the item now ({@code delay == null}) or through its timer
     * ({@code __queue_work} / {@code __queue_delayed_work}).
     */
    private boolean claimAndLink(int cpu, Work work, Duration delay) {
        Platform platform = sys.platform();
        Task self = platform.currentTask();
        int target = sys.resolveCpu(cpu, self);
        platform.preemptionPoint();
        if (!claimPending(work)) {
            return false;
        }
        work.recordClaimedBy(sys); // before the scheduling point: a canceller must find the subsystem
        platform.preemptionPoint(); // PENDING owned, item not linked (or armed) yet: where cancel must retry
        self.enterAtomic(); // like local_irq_save(): no sleeping between here and the list
        try {
            if (delay == null) {
                insertWork(target, work, self, false);
            } else {
                armOrInsert(target, (DelayedWork) work, delay, self);
            }
            return true;
        } finally {
            self.exitAtomic();
        }
    }

    /**
     * Sets PENDING, unless it is set already or the item is disabled ({@code test_and_set_bit} plus
     * {@code clear_pending_if_disabled}): both live in the item's one state word, so a single
     * compare-and-set decides against a concurrent {@code disable()}.
     */
    private static boolean claimPending(Work work) {
        return work.claimForQueue();
    }

    private static void checkDelayArgs(DelayedWork work, Duration delay) {
        if (work == null || delay == null) {
            throw new NullPointerException(work == null ? "work" : "delay");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay " + delay + " for work " + work.name());
        }
    }

    /**
     * Puts an item whose PENDING bit the caller owns on a list ({@code __queue_work}): chooses the
     * pwq (the pool still running the item, for non-reentrancy), then pushes it onto that pwq's
     * inbox if it has an open one, or else, under that pool's lock, refuses or links it. On refusal
     * PENDING is cleared and {@link IllegalStateException} thrown.
     *
     * @param fromTimer whether a delayed item's timer (or a flush firing it early) queues it: that
     *     queueing was accepted when the timer was armed, so draining and closing let it through
     */
    private void insertWork(int cpu, Work work, Task self, boolean fromTimer) {
        WorkQueue wq = this;
        PoolWorkqueue pwq = pwqFor(cpu);
        PoolWorkqueue last = work.pwq;
        if (last != null && last.pool != pwq.pool) {
            // Non-reentrancy: if it is running for this queue on the pool of its last queueing (on
            // whatever queue that was, as get_work_pool reads it), queue it there. Since the caller
            // owns PENDING the item is on no list, so it cannot start running anywhere else once
            // this lock is dropped.
            WorkerPool lp = last.pool;
            lp.lock.lock();
            try {
                Worker running = lp.busyHash.find(work);
                if (running != null && running.currentPwq != null && running.currentPwq.wq == wq) {
                    pwq = running.currentPwq;
                }
            } finally {
                lp.lock.unlock();
            }
        }
        WorkerPool pool = pwq.pool;
        if (!fromTimer && pwq.usesInbox() && pushToInbox(pwq, work)) {
            return;
        }
        String refusal;
        boolean active = false;
        long now = sys.platform().nanoTime(); // outside the lock; no scheduling point until it is held
        pool.lock.lock();
        try {
            pwq.drainInbox(false, now); // items pushed before this one go first
            refusal = refusal(work, self, fromTimer);
            if (refusal == null) {
                active = pwq.insert(work, now);
                pool.nrQueued++;
            }
        } finally {
            pool.lock.unlock();
        }
        if (refusal != null) {
            work.clearPending();
            throw new IllegalStateException(refusal);
        }
        WqEvents.queued(wq.name(), work.name(), pool.name(), active);
    }

    /**
     * The queueing path without the pool lock: pushes {@code work} onto {@code pwq}'s inbox (see
     * {@link PoolWorkqueue}). A timer's queueing never comes here: it was accepted when armed, and
     * the locked path lets it through a drain or close.
     *
     * @return {@code true} if the item is queued (a coming worker drains it, or this task linked it
     *     under the lock because nobody watched); {@code false} if the inbox is closed (draining,
     *     destroying or closing) and the locked path must decide under the lock
     */
    private static boolean pushToInbox(PoolWorkqueue pwq, Work work) {
        PoolWorkqueue last = work.pwq;
        work.pwq = pwq; // before the push: a canceller or flusher then drains this pwq and finds it
        int pushed = pwq.push(work);
        if (pushed < 0) {
            // Nothing pushed. The locked path sets pwq if it links the item; a refusal must leave the
            // last one, which the next queueing's non-reentrancy test reads (__queue_work sets the
            // pwq only in insert_work).
            work.pwq = last;
        } else if (pushed == 0) {
            WorkerPool pool = pwq.pool;
            pool.lock.lock(); // nobody watches the inbox: link it ourselves (insert kicks a worker)
            try {
                pwq.drainInbox();
            } finally {
                pool.lock.unlock();
            }
        }
        return pushed >= 0;
    }

    /** Why {@code work} may not be queued on {@code wq} now, or {@code null}. Under the target pool's lock. */
    private String refusal(Work work, Task self, boolean fromTimer) {
        String why = null;
        if (destroyed) {
            why = "it was destroyed";
        } else if (sys.isClosed()) {
            why = "the workqueue subsystem is closed";
        } else if (fromTimer) {
            return null;
        } else if (sys.isClosing() && !sys.runsItemHere(self)) {
            why = "the workqueue subsystem is closing, and only its running items may queue now";
        } else if (isDraining()) {
            Worker cur = Workqueues.currentWorker(self);
            if (cur == null || cur.currentPwq == null || cur.currentPwq.wq != this) {
                why = "it is draining or being destroyed, and only its own items may queue to it now";
            }
        }
        return why == null ? null : "cannot queue work " + work.name() + " on workqueue " + name + ": " + why;
    }

    // ------------------------------------------------------------------ delayed work

    /** {@code queue_delayed_work_on}. */
    private boolean queueDelayedOnCpu(int cpu, DelayedWork work, Duration delay) {
        checkDelayArgs(work, delay);
        return claimAndLink(cpu, work, delay);
    }

    /** With PENDING owned: queue now, or arm the timer ({@code __queue_delayed_work}). */
    private void armOrInsert(int cpu, DelayedWork work, Duration delay, Task self) {
        if (delay.isZero()) {
            insertWork(cpu, work, self, false);
            return;
        }
        if (work.timer == null) {
            work.timer = sys.platform().newTimer("delayed " + work.name(), () -> work.targetWq.delayedTimerFired(work));
        }
        work.targetWq = this;
        work.targetCpu = cpu;
        String refusal = armDelayed(work, delay);
        if (refusal != null) {
            work.clearPending();
            throw new IllegalStateException("cannot queue work " + work.name() + " on workqueue " + name
                    + " after " + delay + ": " + refusal);
        }
    }

    /** Timer callback, in atomic context ({@code delayed_work_timer_fn}). */
    private void delayedTimerFired(DelayedWork work) {
        beginFiring(work);
        try {
            insertWork(work.targetCpu, work, sys.platform().currentTask(), true);
        } finally {
            endFiring();
        }
    }

    /** {@code mod_delayed_work_on}. */
    private boolean modDelayedOnCpu(int cpu, DelayedWork work, Duration delay) {
        checkDelayArgs(work, delay);
        Task self = sys.platform().currentTask();
        int target = sys.resolveCpu(cpu, self);
        int r = work.grabPendingRetrying(sys.platform());
        sys.platform().preemptionPoint(); // PENDING owned again, neither armed nor linked
        self.enterAtomic();
        try {
            if (work.isDisabled()) {
                work.clearPending();
            } else {
                armOrInsert(target, work, delay, self);
            }
        } finally {
            self.exitAtomic();
        }
        return r == 1;
    }

    /**
     * If {@code work}'s timer (armed for this queue) is pending, queues the item now
     * ({@code flush_delayed_work}'s first step). Like the kernel's {@code del_timer_sync}, it waits
     * for a callback that is firing right now, so that on return the item is linked or idle, never
     * half way between its timer and a list (where a flush that follows would miss it). Sleeps.
     *
     * @return whether the timer was pending and the item is now queued
     */
    boolean fireDelayedNow(DelayedWork work) {
        PlatformTimer t = work.timer;
        Task self = sys.platform().currentTask();
        self.checkMaySleep(work, "flush_delayed_work");
        if (t == null || !t.cancelSync()) {
            return false;
        }
        beginFiring(work);
        self.enterAtomic();
        try {
            insertWork(work.targetCpu, work, self, true);
        } finally {
            self.exitAtomic();
            endFiring();
        }
        return true;
    }

    @Override
    public String toString() {
        return "workqueue " + name + flags + (ordered ? " ordered" : "") + " maxActive=" + maxActive;
    }
}
