package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.RawSpinLock;

import java.util.ArrayDeque;

/**
 * The rescuer of one {@link WqFlag#MEM_RECLAIM} queue, or of every queue of one
 * {@link RescuerDomain} ({@code rescuer_thread}): a thread created with the queue (or the domain), so
 * that it exists however short memory is later, which runs its queues' items on pools that cannot
 * create a worker.
 *
 * <p>A pool's mayday timer calls {@link #sendMayday} for every pwq with items waiting while the pool
 * needs a worker and has none idle. The rescuer then attaches to each such pool in turn and runs
 * <em>only that pwq's queue's</em> active items there, one at a time, for as long as the pool still
 * needs a worker (or its manager is still trying to create one and nobody else waits). After
 * {@code rescuerBatch} items, if other pwqs called too (other pools, or other queues of the domain),
 * it re-queues this pwq's mayday at the tail and moves on, so one queue cannot starve the others.
 * It never takes part in concurrency management.
 *
 * <p>The kernel's mayday list ({@code wq->maydays}) already holds pwqs, each naming its queue; a
 * shared rescuer is that list fed by several queues. Upstream has one rescuer per queue; the
 * domain is a difference on purpose (docs/ARCHITECTURE.md).
 *
 * <p>The guarantee is the kernel's, and so is its limit: one execution context per rescuer. An item
 * run by the rescuer that waits for another item it serves (of the same queue, or of another queue
 * of its domain) deadlocks when no worker can be created; items that depend on each other need
 * separate rescuers.
 *
 * <p>Locking legend: {@code maydays} and every pwq's {@code onMayday} are guarded by
 * {@code maydayLock} (a raw spin lock, taken under a pool lock, never the other way round).
 * Memory ordering: {@code hasMaydays} is written under {@code maydayLock} and read without it by the
 * rescuer's idle wait, after which it takes the lock; {@code stopping} is written by the stopper
 * before {@code platform.wake} and read under {@code maydayLock} by {@code sendMayday}.
 */
final class Rescuer {

    private final Platform platform;
    private final Worker worker;
    private final RawSpinLock maydayLock = new RawSpinLock();
    private final ArrayDeque<PoolWorkqueue> maydays = new ArrayDeque<>(); // guarded by maydayLock
    private volatile boolean hasMaydays; // written under maydayLock
    private volatile boolean stopping;
    private final Task task;
    private final Primitive idleWait;
    private final Workqueues.Stats stats;
    private final int batch;
    private final Completion exited;

    /**
     * Starts the rescuer thread {@code kworker/R-<name>} through kthreadd.
     *
     * @param name the queue's name for a private rescuer, the domain's for a shared one
     */
    Rescuer(Workqueues sys, String name) {
        this.platform = sys.platform();
        this.stats = sys.stats;
        this.batch = sys.config().rescuerBatch();
        name = "kworker/R-" + name;
        this.worker = new Worker(null, -1, name, true);
        this.idleWait = new IdleWait(name, "rescuer idle");
        this.exited = new Completion(platform, name + " exit", "kthread_exit");
        this.task = sys.kthreadd().create(name, this::run);
        worker.task = task;
    }

    Task task() {
        return task;
    }

    /** Asks for help on {@code pwq}'s pool ({@code send_mayday}). Pool lock held; never sleeps. */
    void sendMayday(PoolWorkqueue pwq) {
        boolean sent = false;
        maydayLock.lock();
        try {
            if (!pwq.onMayday && !stopping) {
                pwq.onMayday = true;
                maydays.addLast(pwq);
                hasMaydays = true;
                sent = true;
            }
        } finally {
            maydayLock.unlock();
        }
        if (sent) {
            stats.maydays.increment();
            WqEvents.mayday(pwq.wq.name(), pwq.pool.name());
            platform.wake(task);
        }
    }

    /**
     * Puts {@code pwq}, whose batch is used up, behind every other pwq on the mayday list. The mayday
     * timer may have put it back on the list while its batch ran (its pool still had items on the
     * worklist), possibly ahead of a queue that asked later; {@link #sendMayday} would leave it there,
     * and the batch would not keep this queue from going first again. So it is moved to the tail,
     * which is what lets a domain's other queues in after every batch. Pool lock held; never sleeps.
     */
    private void requeueBehindOthers(PoolWorkqueue pwq) {
        maydayLock.lock();
        try {
            if (stopping) {
                return;
            }
            if (pwq.onMayday) {
                maydays.remove(pwq);
            }
            pwq.onMayday = true;
            maydays.addLast(pwq);
            hasMaydays = true;
        } finally {
            maydayLock.unlock();
        }
    }

    /** Whether a pwq of {@code wq} is on this rescuer's mayday list: advisory, for tests and reports. */
    boolean hasMaydayFor(WorkQueue wq) {
        maydayLock.lock();
        try {
            for (PoolWorkqueue pwq : maydays) {
                if (pwq.wq == wq) {
                    return true;
                }
            }
            return false;
        } finally {
            maydayLock.unlock();
        }
    }

    private PoolWorkqueue nextMayday() {
        maydayLock.lock();
        try {
            PoolWorkqueue pwq = maydays.pollFirst();
            if (pwq != null) {
                pwq.onMayday = false;
            }
            hasMaydays = !maydays.isEmpty();
            return pwq;
        } finally {
            maydayLock.unlock();
        }
    }

    private void run() {
        Task self = platform.currentTask();
        self.setKthreadData(worker);
        Kthreadd.runThenSignal(this::loop, exited);
    }

    private void loop() {
        while (true) {
            platform.await(idleWait, () -> hasMaydays || stopping, Platform.NO_DEADLINE);
            PoolWorkqueue pwq;
            while ((pwq = nextMayday()) != null) {
                rescue(pwq);
            }
            if (stopping && !hasMaydays) {
                return;
            }
        }
    }

    private void rescue(PoolWorkqueue pwq) {
        WorkerPool pool = pwq.pool;
        worker.pool = pool; // attach
        worker.scheduled.pool = pool;
        pool.lock.lock();
        try {
            pwq.drainInbox();
            int n = 0;
            long now = platform.nanoTime();
            while (assignRescuerWork(pwq)) {
                stats.rescued.increment();
                WqEvents.rescue(pwq.wq.name(), pool.name());
                now = worker.processScheduledWorks(now);
                if (++n >= batch && hasMaydays && pwq.nrActive() > 0 && pool.needToCreateWorker()) {
                    requeueBehindOthers(pwq); // others wait: go round them first, then come back
                    break;
                }
            }
            pool.kick(); // let regular workers continue, if there are any
        } finally {
            // An item that is torn down (TaskAbortedError) leaves processOneWork without the lock,
            // which it dropped around the run: release it only if held, as the worker loop does.
            pool.lock.unlockIfHeldByCurrentThread();
            worker.pool = null; // detach
            worker.scheduled.pool = null;
        }
    }

    /**
     * Moves the next of this queue's active items on the pool to the rescuer, if the pool still needs
     * help ({@code assign_rescuer_work}). Pool lock held.
     */
    private boolean assignRescuerWork(PoolWorkqueue pwq) {
        WorkerPool pool = pwq.pool;
        if (pwq.nrActive() == 0) {
            return false;
        }
        if (!pool.needToCreateWorker() && !(pool.managerActive() && !hasMaydays)) {
            return false;
        }
        for (Work w = pool.worklist.first(); w != null; ) {
            Work next = w.next;
            if (w.pwq == pwq && worker.assignWork(w)) {
                return true;
            }
            w = next;
        }
        return false;
    }

    /**
     * Stops the rescuer once its mayday list is empty, and waits for it until {@code deadline}
     * ({@code kthread_stop}).
     *
     * @return whether it exited
     */
    boolean stop(long deadline) {
        stopping = true;
        platform.wake(task);
        return platform.currentTask() == task || Kthreadd.join(platform, task, exited, deadline);
    }
}
