package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
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
 *       non-reentrancy. Queueing on a destroyed queue, or on a draining one from outside its own
 *       items, throws {@link IllegalStateException}.
 *   <li>{@link #flush()} waits for every item queued before the call; later arrivals cannot keep it
 *       waiting. {@link #drain()} waits until the queue is empty, allowing only its own items to
 *       queue more. {@link #destroy()} drains, stops the rescuer and refuses further queueing; it
 *       refuses to run while delayed items are still on their timers.
 *   <li>A {@link WqFlag#MEM_RECLAIM} queue owns a rescuer thread (see {@link Rescuer}).
 *   <li>{@code check_flush_dependency}: a memory-reclaim worker, or a task in a {@code NORECLAIM}
 *       scope, flushing a queue without {@code MEM_RECLAIM} (or an item on one) is reported; flushing
 *       a queue from one of its own items, or an item from itself, can never finish and throws.
 * </ul>
 * It is also an {@link Executor}: each {@code execute} queues a fresh item.
 */
public final class WorkQueue implements Executor, Primitive {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    private final Workqueues sys;
    private final String name;
    private final String executeName;
    private final Set<WqFlag> flags;
    private final boolean ordered;
    private volatile int maxActive;
    private final PoolWorkqueue[] pwqs; // per CPU, or one for unbound
    final Rescuer rescuer;
    private final Mutex flushMutex;
    private final WaitQueue flushWait;
    private int nextColor;
    /** Delayed items whose timer is armed for this queue (owned by the PENDING bit's owner). */
    final Set<DelayedWork> armedDelayed = ConcurrentHashMap.newKeySet();
    /** Tasks draining the queue right now; while non-zero only chained queueing is allowed. */
    private final AtomicInteger drainers = new AtomicInteger();
    private volatile boolean destroying;
    private volatile boolean destroyed;

    WorkQueue(Workqueues sys, String name, Set<WqFlag> flags, int maxActive, boolean ordered) {
        this.sys = sys;
        this.name = name;
        this.executeName = name + "/execute";
        this.flags = Collections.unmodifiableSet(flags.isEmpty() ? EnumSet.noneOf(WqFlag.class) : EnumSet.copyOf(flags));
        this.ordered = ordered;
        this.maxActive = maxActive;
        boolean high = flags.contains(WqFlag.HIGHPRI);
        if (flags.contains(WqFlag.UNBOUND)) {
            pwqs = new PoolWorkqueue[] {new PoolWorkqueue(this, sys.unboundPool(high))};
        } else {
            pwqs = new PoolWorkqueue[sys.cpus()];
            for (int cpu = 0; cpu < pwqs.length; cpu++) {
                pwqs[cpu] = new PoolWorkqueue(this, flags.contains(WqFlag.BH) ? sys.bhPool(cpu, high) : sys.cpuPool(cpu, high));
            }
        }
        this.flushMutex = new Mutex(sys.platform(), name + "/flush_mutex", "wq_flush_mutex");
        this.flushWait = new WaitQueue(sys.platform(), "(wq_completion)" + name, "wq_completion");
        this.rescuer = flags.contains(WqFlag.MEM_RECLAIM) ? new Rescuer(this) : null;
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
        return "(wq_completion)" + name;
    }

    @Override
    public String kind() {
        return "workqueue";
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

    /** Whether the queue owns a rescuer ({@link WqFlag#MEM_RECLAIM}). */
    public boolean hasRescuer() {
        return rescuer != null;
    }

    /** The rescuer's task, or {@code null}. */
    public Task rescuerTask() {
        return rescuer == null ? null : rescuer.task();
    }

    boolean isMemReclaim() {
        return rescuer != null;
    }

    boolean isCpuIntensive() {
        return flags.contains(WqFlag.CPU_INTENSIVE);
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
        return flags.contains(WqFlag.FREEZABLE) && sys.isFrozen() ? 0 : maxActive;
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
     * Queues {@code work} on the current CPU's pool ({@code queue_work}).
     *
     * @return {@code false} if it was already pending or is disabled
     * @throws IllegalStateException if the queue is destroyed, or draining and the caller is not one
     *     of its own items
     */
    public boolean queue(Work work) {
        return sys.queue(this, Workqueues.CURRENT_CPU, work);
    }

    /** Queues {@code work} on {@code cpu}'s pool ({@code queue_work_on}); see {@link #queue}. */
    public boolean queueOn(int cpu, Work work) {
        checkCpu(cpu);
        return sys.queue(this, cpu, work);
    }

    /**
     * Queues {@code work} after {@code delay} ({@code queue_delayed_work}); a zero delay queues it now.
     *
     * @return {@code false} if it was already pending or is disabled
     */
    public boolean queueDelayed(DelayedWork work, Duration delay) {
        return sys.queueDelayed(this, Workqueues.CURRENT_CPU, work, delay);
    }

    /** Like {@link #queueDelayed}, on {@code cpu}'s pool. */
    public boolean queueDelayedOn(int cpu, DelayedWork work, Duration delay) {
        checkCpu(cpu);
        return sys.queueDelayed(this, cpu, work, delay);
    }

    /**
     * Queues {@code work} after {@code delay}, replacing a pending queueing ({@code mod_delayed_work}).
     *
     * @return whether it was pending before
     */
    public boolean modDelayed(DelayedWork work, Duration delay) {
        return sys.modDelayed(this, Workqueues.CURRENT_CPU, work, delay);
    }

    private void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= sys.cpus()) {
            throw new IllegalArgumentException("cpu " + cpu + " out of range [0, " + sys.cpus() + ")");
        }
    }

    /**
     * Queues {@code command} as a fresh work item.
     *
     * @throws RejectedExecutionException if the queue is destroyed or draining
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

    // ------------------------------------------------------------------ flush, drain, destroy

    /**
     * Waits for every item queued before this call to finish ({@code flush_workqueue}).
     *
     * @throws IllegalStateException if called from one of this queue's own items
     */
    public void flush() {
        Task self = sys.platform().currentTask();
        self.checkMaySleep(this, "flush_workqueue");
        Worker cur = Workqueues.currentWorker(self);
        if (cur != null && cur.currentPwq != null && cur.currentPwq.wq == this) {
            throw new IllegalStateException("flush of workqueue " + name + " from its own item " + cur.currentWork.name()
                    + " in " + cur.name + " can never finish");
        }
        sys.checkFlushDependency(self, cur, this, null);
        flushMutex.lock();
        try {
            int color = nextColor;
            nextColor = (color + 1) % PoolWorkqueue.NR_COLORS;
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock.lock();
                try {
                    pwq.flushColor = color;
                    pwq.workColor = nextColor;
                } finally {
                    pwq.pool.lock.unlock();
                }
            }
            flushWait.waitEvent(() -> colorDone(color));
            for (PoolWorkqueue pwq : pwqs) {
                pwq.pool.lock.lock();
                try {
                    pwq.flushColor = PoolWorkqueue.NO_COLOR;
                } finally {
                    pwq.pool.lock.unlock();
                }
            }
        } finally {
            flushMutex.unlock();
        }
    }

    private boolean colorDone(int color) {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
                if (pwq.nrInFlight[color] != 0) {
                    return false;
                }
            } finally {
                pwq.pool.lock.unlock();
            }
        }
        return true;
    }

    void wakeFlusher() {
        flushWait.wakeUpAll();
    }

    private boolean isEmpty() {
        for (PoolWorkqueue pwq : pwqs) {
            pwq.pool.lock.lock();
            try {
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
     * Flushes until the queue is empty ({@code drain_workqueue}). Meanwhile only the queue's own items
     * may queue to it. Warns if it takes more than 10 flushes, then every 100.
     */
    public void drain() {
        drainers.incrementAndGet();
        try {
            for (int tries = 1; ; tries++) {
                flush();
                if (isEmpty()) {
                    return;
                }
                if (tries == 10 || (tries % 100 == 0 && tries <= 1000)) {
                    LOG.log(Level.WARNING, "workqueue " + name + ": drain_workqueue() isn't complete after " + tries + " tries");
                }
            }
        } finally {
            drainers.decrementAndGet();
        }
    }

    /**
     * Drains the queue, stops its rescuer and retires it ({@code destroy_workqueue}); queueing on it
     * afterwards throws.
     *
     * @throws IllegalStateException if it is already destroyed, or delayed items are still on timers
     */
    public void destroy() {
        underFlushMutex(() -> {
            if (destroyed || destroying) {
                throw new IllegalStateException("workqueue " + name + " is already destroyed");
            }
            List<String> armed = new ArrayList<>();
            for (DelayedWork dw : armedDelayed) {
                armed.add(dw.name());
            }
            if (!armed.isEmpty()) {
                Collections.sort(armed);
                throw new IllegalStateException("cannot destroy workqueue " + name + ": " + armed.size()
                        + " delayed work item(s) are still on their timers (" + String.join(", ", armed)
                        + "); cancel them first");
            }
            destroying = true;
        });
        try {
            drain();
        } catch (RuntimeException | Error e) {
            // Refused before anything was waited for (from one of its own items, from atomic
            // context, a flush-dependency error): leave the queue as it was.
            destroying = false;
            throw e;
        }
        destroying = true;
        if (rescuer != null) {
            rescuer.stop();
        }
        destroyed = true;
        sys.unregister(this);
    }

    private void underFlushMutex(Runnable r) {
        flushMutex.lock();
        try {
            r.run();
        } finally {
            flushMutex.unlock();
        }
    }

    @Override
    public String toString() {
        return "workqueue " + name + flags + (ordered ? " ordered" : "") + " maxActive=" + maxActive;
    }
}
