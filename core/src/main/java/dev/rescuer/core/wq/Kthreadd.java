package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.platform.ThreadStartException;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.RawSpinLock;

import java.util.ArrayDeque;

/**
 * The thread creator, the kernel's kthreadd: one task that starts every worker and rescuer thread on
 * request ({@code kthread_create}). Starting a thread costs pages, charged to this task with
 * {@code GFP_KERNEL}; under memory pressure it enters direct reclaim and may block there, which stops
 * all thread creation in the system, exactly the condition that rescuers exist for. A requester
 * sleeps on a {@link Completion} until its request is served.
 */
final class Kthreadd {

    private static final class Request {
        final String name;
        final Runnable body;
        final Completion done;
        Task result;
        ThreadStartException failure;

        Request(Platform platform, String name, Runnable body) {
            this.name = name;
            this.body = body;
            this.done = new Completion(platform, "kthread_create " + name, "kthread_create");
        }
    }

    private final Platform platform;
    private final RawSpinLock lock = new RawSpinLock();
    private final ArrayDeque<Request> requests = new ArrayDeque<>(); // guarded by lock
    private volatile boolean stopping;
    private volatile boolean hasRequests;
    private final Task task;
    private final Primitive idleWait = new IdleWait("kthreadd", "kthreadd idle");
    private final Completion exited;

    Kthreadd(Platform platform) {
        this.platform = platform;
        this.exited = new Completion(platform, "kthreadd exit", "kthread_exit");
        this.task = platform.startThread("kthreadd", this::run);
    }

    Task task() {
        return task;
    }

    /**
     * Starts a thread through kthreadd and waits for the result.
     *
     * @throws ThreadStartException if kthreadd could not start it, or is stopping
     */
    Task create(String name, Runnable body) {
        if (platform.currentTask() == task) {
            return platform.startThread(name, body);
        }
        Request r = new Request(platform, name, body);
        lock.lock();
        try {
            if (stopping) {
                throw new ThreadStartException("cannot start thread " + name + ": kthreadd is stopping");
            }
            requests.addLast(r);
            hasRequests = true;
        } finally {
            lock.unlock();
        }
        platform.wake(task);
        r.done.waitFor();
        if (r.failure != null) {
            throw new ThreadStartException(r.failure.getMessage(), r.failure);
        }
        return r.result;
    }

    private void run() {
        runThenSignal(this::serve, exited);
    }

    /**
     * A daemon thread's body: runs {@code loop}, then completes {@code exited} for bounded joins.
     * When the platform tears the task down ({@link TaskAbortedError}) nothing is completed: no
     * raw lock may be taken on the way out.
     */
    static void runThenSignal(Runnable loop, Completion exited) {
        try {
            loop.run();
        } catch (TaskAbortedError aborted) {
            throw aborted;
        }
        exited.complete();
    }

    private void serve() {
        while (true) {
            platform.await(idleWait, () -> hasRequests || stopping, Platform.NO_DEADLINE);
            Request r;
            lock.lock();
            try {
                r = requests.pollFirst();
                hasRequests = !requests.isEmpty();
            } finally {
                lock.unlock();
            }
            if (r == null) {
                if (stopping) {
                    return;
                }
                continue;
            }
            try {
                r.result = platform.startThread(r.name, r.body);
            } catch (ThreadStartException e) {
                r.failure = e;
            }
            r.done.complete();
        }
    }

    /**
     * Stops kthreadd, waits for it until {@code deadline}, then fails requests still pending.
     *
     * @return whether it exited
     */
    boolean stop(long deadline) {
        lock.lock();
        try {
            stopping = true;
        } finally {
            lock.unlock();
        }
        platform.wake(task);
        if (platform.currentTask() != task && !join(platform, task, exited, deadline)) {
            return false;
        }
        while (true) {
            Request r;
            lock.lock();
            try {
                r = requests.pollFirst();
            } finally {
                lock.unlock();
            }
            if (r == null) {
                return true;
            }
            r.failure = new ThreadStartException("cannot start thread " + r.name + ": kthreadd stopped");
            r.done.complete();
        }
    }

    /**
     * Joins a daemon task whose body completes {@code exited} as it returns, waiting no later than
     * {@code deadline} (a platform time, or {@link Platform#NO_DEADLINE}).
     *
     * @return whether it exited
     */
    static boolean join(Platform platform, Task task, Completion exited, long deadline) {
        if (deadline != Platform.NO_DEADLINE) {
            long left = deadline - platform.nanoTime();
            if (left <= 0 ? !exited.isDone() : !exited.waitFor(java.time.Duration.ofNanos(left))) {
                return false;
            }
        }
        platform.join(task); // its body has returned: only the platform's exit bookkeeping is left
        return true;
    }
}
