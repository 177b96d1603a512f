package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;

/**
 * One CPU's softirq context, which runs the items of that CPU's two BH pools (high priority first),
 * like the kernel's {@code workqueue_softirq_action}. Items run in atomic context, at most
 * {@link #MAX_ITEMS} per pool per pass ({@code BH_WORKER_RESTARTS}); leftovers raise the softirq again.
 * A BH pool has a single execution context per CPU, so its items never run concurrently with each other.
 */
final class Softirq {

    static final int MAX_ITEMS = 10;

    private final Platform platform;
    private final WorkerPool normal;
    private final WorkerPool high;
    private volatile boolean raised;
    private volatile boolean stopping;
    private final Task task;
    private final Primitive idleWait;
    private final Completion exited;

    Softirq(Workqueues sys, int cpu, WorkerPool normal, WorkerPool high) {
        this.platform = sys.platform();
        this.normal = normal;
        this.high = high;
        String name = "ksoftirqd/" + cpu;
        this.idleWait = new IdleWait(name, "softirq idle");
        this.exited = new Completion(platform, name + " exit", "kthread_exit");
        this.task = sys.kthreadd().create(name, this::run);
        normal.bhWorker.task = task;
        high.bhWorker.task = task;
    }

    /** Marks work pending and wakes the context. Never sleeps. */
    void raise() {
        if (!raised) {
            raised = true;
            platform.wake(task);
        }
    }

    private void run() {
        Kthreadd.runThenSignal(this::loop, exited);
    }

    private void loop() {
        while (true) {
            platform.await(idleWait, () -> raised || stopping, Platform.NO_DEADLINE);
            raised = false;
            runPool(high);
            runPool(normal);
            if (stopping) {
                return;
            }
        }
    }

    private void runPool(WorkerPool pool) {
        Worker bh = pool.bhWorker;
        pool.lock.lock();
        try {
            long now = platform.nanoTime();
            for (int n = 0; n < MAX_ITEMS && !pool.worklist.isEmpty(); n++) {
                if (bh.assignWork(pool.worklist.first())) {
                    now = bh.processScheduledWorks(now);
                }
            }
            if (!pool.worklist.isEmpty()) {
                raised = true;
            }
        } finally {
            // processOneWork drops the lock around each item; a tear-down there leaves without it.
            pool.lock.unlockIfHeldByCurrentThread();
        }
    }

    /** Stops the context after its current pass and waits for it until {@code deadline}. @return whether it exited */
    boolean stop(long deadline) {
        stopping = true;
        platform.wake(task);
        return platform.currentTask() == task || Kthreadd.join(platform, task, exited, deadline);
    }
}
