package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.sync.WaitQueue;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A {@link WorkQueue} seen as an {@link java.util.concurrent.ExecutorService}
 * ({@link WorkQueue#asExecutorService()}): each accepted task is a fresh work item on the queue, with
 * the queue's guarantees (its pools, {@code maxActive}, its rescuer under memory pressure). Every
 * wait ({@link Future#get}, {@link #awaitTermination}, {@code invokeAll}, {@code invokeAny}) sleeps
 * through the queue's {@link Platform} and is interruptible ({@link Platform#interrupt}, or
 * {@code Thread.interrupt} on a real platform), so the service runs unchanged under the simulator.
 *
 * <p>Lifecycle. The service is a view with a lifecycle of its own over the tasks it accepted; the
 * queue stays its owner's, usable directly, and is destroyed by its owner ({@link WorkQueue#destroy},
 * which also waits for everything this service queued).
 * <ul>
 *   <li>{@link #shutdown()} refuses new tasks ({@link RejectedExecutionException}) and lets the
 *       accepted ones run; it does not wait.
 *   <li>{@link #shutdownNow()} also cancels every accepted task that has not started
 *       ({@code cancel_work}: taken off the queue) and returns them, oldest first, as JDK executors do
 *       (a {@code submit}ted task is returned as its future, neither run nor cancelled). Running tasks
 *       run to completion: nothing is interrupted (see below).
 *   <li>{@link #isTerminated()} once shut down and every accepted task has finished or was taken off
 *       the queue; {@link #awaitTermination} waits for that, bounded.
 *   <li>A task the queue refuses (destroyed, draining, the subsystem closing) is refused at the call
 *       with {@link RejectedExecutionException} naming why.
 * </ul>
 *
 * <p>Futures. {@code submit} returns a future whose {@code cancel} of a task that has not started
 * takes its item off the queue ({@code cancel_work}) and succeeds; {@code cancel} of a task that
 * is running or done returns {@code false}, with or without {@code mayInterruptIfRunning}: the
 * kernel's work items have no interruption, a running item is only ever waited for
 * ({@code cancel_work_sync}), and interrupting a worker thread would hit whatever item it runs
 * next. A task that throws completes its future exceptionally, as JDK executors do; the queue's
 * {@linkplain WorkQueue#setFailureHandler failure handler} sees only tasks given to {@link #execute}.
 *
 * <p><b>Memory ordering.</b> {@code outstanding} counts accepted tasks not yet finished or taken off;
 * {@link #execute} increments it before it reads {@code shutdown}, and {@link #shutdown()} writes
 * {@code shutdown} before anyone reads {@code outstanding} for termination, so (both being
 * sequentially consistent) a task accepted concurrently with {@code shutdown} is either refused or
 * counted. Each accepted task's {@code claimed} flag is compare-and-set by exactly one of its run
 * and its cancellation; the winner accounts for it. A future's result is written before its
 * volatile state, which waiters read. Every change that a wait's condition reads is followed by
 * {@link WaitQueue#wakeUpAll()} of {@code events}.
 */
public final class WorkQueueExecutorService extends AbstractExecutorService {

    private final WorkQueue wq;
    private final Platform platform;
    private final String itemName;
    /** Accepted tasks not yet claimed by their run or a cancellation, by acceptance order. Concurrent map. */
    private final Map<Long, Item> unclaimed = new ConcurrentSkipListMap<>();
    private final AtomicLong nextSeq = new AtomicLong();
    /** Accepted tasks not yet finished or taken off the queue. Atomic. */
    private final AtomicInteger outstanding = new AtomicInteger();
    /** Set once by shutdown; volatile. */
    private volatile boolean shutdown;
    /** Woken whenever a task finishes or is taken off, a future completes, or the service shuts down. */
    private final WaitQueue events;

    WorkQueueExecutorService(WorkQueue wq) {
        this.wq = wq;
        this.platform = wq.system().platform();
        this.itemName = wq.name() + "/executor";
        this.events = new WaitQueue(platform, "(executor)" + wq.name(), "wq_executor");
        this.events.setOwner(wq);
    }

    /** The queue this service runs its tasks on. */
    public WorkQueue queue() {
        return wq;
    }

    private static final VarHandle CLAIMED;

    static {
        try {
            CLAIMED = MethodHandles.lookup().findVarHandle(Item.class, "claimed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One accepted task: it is itself the work item that runs it (one object per task, besides the
     * map entry), with the flag its run and its cancellation race for ({@code CLAIMED}).
     */
    private final class Item extends Work {
        final long seq;
        final Runnable command;
        /** Set by the winner of the task's run and its cancellation; only through {@code CLAIMED}. */
        private volatile boolean claimed;

        Item(long seq, Runnable command) {
            super(itemName);
            this.seq = seq;
            this.command = command;
        }

        /** Whether the caller won the task for its run or its cancellation. */
        boolean claim() {
            return CLAIMED.compareAndSet(this, false, true);
        }

        @Override
        void run() {
            if (!claim()) {
                return; // cancelled after it left the queue: the canceller accounted for it
            }
            unclaimed.remove(seq);
            try {
                command.run();
            } finally {
                finished();
            }
        }

        /** Takes the task off the queue if it has not started; whether it did. */
        boolean cancelTask() {
            if (!claim()) {
                return false;
            }
            unclaimed.remove(seq);
            cancel(); // the item's cancel_work; if it already left the list, its run finds it claimed and returns
            finished();
            return true;
        }
    }

    private void finished() {
        outstanding.decrementAndGet();
        events.wakeUpAll();
    }

    /**
     * Queues {@code command} as a fresh work item on the queue.
     *
     * @throws RejectedExecutionException if the service is shut down, or the queue refuses the item
     *     (the message says why)
     */
    @Override
    public void execute(Runnable command) {
        if (command == null) {
            throw new NullPointerException("command");
        }
        outstanding.incrementAndGet(); // before shutdown is read: see the class comment
        if (shutdown) {
            finished();
            throw new RejectedExecutionException("executor over workqueue " + wq.name() + " is shut down");
        }
        Item item = new Item(nextSeq.getAndIncrement(), command);
        if (command instanceof ItemFuture<?> f && f.service == WorkQueueExecutorService.this) {
            f.item = item;
        }
        unclaimed.put(item.seq, item);
        try {
            wq.queue(item);
        } catch (IllegalStateException refused) {
            if (item.claim()) {
                unclaimed.remove(item.seq);
                finished();
            }
            throw new RejectedExecutionException(refused.getMessage(), refused);
        }
    }

    @Override
    public void shutdown() {
        shutdown = true;
        events.wakeUpAll();
    }

    /**
     * Shuts down and takes every accepted task that has not started off the queue.
     *
     * @return those tasks, oldest first; running tasks are not among them and run to completion
     */
    @Override
    public List<Runnable> shutdownNow() {
        shutdown();
        List<Runnable> out = new ArrayList<>();
        for (Item item : unclaimed.values()) {
            if (item.cancelTask()) {
                out.add(item.command);
            }
        }
        return out;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown && outstanding.get() == 0;
    }

    /**
     * Waits at most {@code timeout} for termination, sleeping through the platform.
     *
     * @return whether the service terminated
     * @throws InterruptedException if the waiting task is interrupted
     */
    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return events.waitEventInterruptibleTimeout(this::isTerminated, toDuration(timeout, unit));
    }

    private static Duration toDuration(long timeout, TimeUnit unit) {
        return Duration.ofNanos(Math.max(0, unit.toNanos(timeout)));
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
        return new ItemFuture<>(this, callable);
    }

    @Override
    protected <T> RunnableFuture<T> newTaskFor(Runnable runnable, T value) {
        return new ItemFuture<>(this, java.util.concurrent.Executors.callable(runnable, value));
    }

    /** Sleeps until {@code condition} holds or the platform deadline passes; whether it holds. */
    private boolean awaitEvent(BooleanSupplier condition, long deadline) throws InterruptedException {
        return events.waitEventInterruptibleUntil(condition, deadline);
    }

    // ------------------------------------------------------------------ invokeAll / invokeAny

    /**
     * Runs every task and waits, through the platform, until all are done or the timeout passes;
     * those not done then are cancelled (taken off the queue if they have not started; left to finish
     * if they have).
     */
    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException {
        long deadline = platform.deadlineAfter(toDuration(timeout, unit));
        List<Future<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> t : tasks) {
                futures.add(submit(t));
            }
            awaitEvent(() -> allDone(futures), deadline);
            return futures;
        } finally {
            for (Future<T> f : futures) {
                if (!f.isDone()) {
                    f.cancel(false);
                }
            }
        }
    }

    private static boolean allDone(List<? extends Future<?>> futures) {
        for (Future<?> f : futures) {
            if (!f.isDone()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs the tasks and returns the result of one that completed normally, waiting through the
     * platform; the others are then cancelled. All are queued at once (the queue's {@code maxActive}
     * limits how many run together).
     *
     * @throws ExecutionException if every task threw; its cause is the last one's failure
     */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) throws InterruptedException, ExecutionException {
        try {
            return doInvokeAny(tasks, Platform.NO_DEADLINE);
        } catch (TimeoutException e) {
            throw new AssertionError("an untimed invokeAny timed out", e);
        }
    }

    /** Like {@link #invokeAny(Collection)}, giving up after {@code timeout}. */
    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
            throws InterruptedException, ExecutionException, TimeoutException {
        return doInvokeAny(tasks, platform.deadlineAfter(toDuration(timeout, unit)));
    }

    private <T> T doInvokeAny(Collection<? extends Callable<T>> tasks, long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("invokeAny needs at least one task");
        }
        List<ItemFuture<T>> futures = new ArrayList<>(tasks.size());
        try {
            for (Callable<T> t : tasks) {
                futures.add((ItemFuture<T>) submit(t));
            }
            BooleanSupplier settled = () -> {
                for (ItemFuture<T> f : futures) {
                    if (f.succeeded()) {
                        return true;
                    }
                }
                return allDone(futures);
            };
            if (!awaitEvent(settled, deadline)) {
                throw new TimeoutException("invokeAny on workqueue " + wq.name() + ": no task completed in time");
            }
            ExecutionException last = null;
            for (ItemFuture<T> f : futures) {
                if (f.succeeded()) {
                    return f.get();
                }
                try {
                    f.get();
                } catch (ExecutionException e) {
                    last = e;
                } catch (CancellationException e) {
                    last = new ExecutionException(e);
                }
            }
            throw last;
        } finally {
            for (ItemFuture<T> f : futures) {
                f.cancel(false);
            }
        }
    }

    // ------------------------------------------------------------------ futures

    /** The future of a submitted task; see the class comment for what {@code cancel} can do. */
    private static final class ItemFuture<T> implements RunnableFuture<T> {
        private static final int NEW = 0;
        private static final int RUNNING = 1;
        private static final int SUCCEEDED = 2;
        private static final int FAILED = 3;
        private static final int CANCELLED = 4;

        final WorkQueueExecutorService service;
        private final Callable<T> callable;
        /** The accepted task, set by execute before the item is queued; volatile. */
        volatile Item item;
        private final AtomicInteger state = new AtomicInteger(NEW);
        /** Written before state leaves RUNNING; read after state is seen done. */
        private T result;
        private Throwable failure;

        ItemFuture(WorkQueueExecutorService service, Callable<T> callable) {
            this.service = service;
            this.callable = callable;
        }

        @Override
        public void run() {
            if (!state.compareAndSet(NEW, RUNNING)) {
                return;
            }
            try {
                result = callable.call();
                state.set(SUCCEEDED);
            } catch (TaskAbortedError aborted) {
                throw aborted;
            } catch (Throwable t) {
                failure = t;
                state.set(FAILED);
            }
            service.events.wakeUpAll();
        }

        /**
         * Cancels the task if it has not started: its item is taken off the queue. A running or
         * finished task is not cancelled, whatever {@code mayInterruptIfRunning} says.
         */
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (!state.compareAndSet(NEW, CANCELLED)) {
                return false;
            }
            Item it = item;
            if (it != null) {
                it.cancelTask();
            }
            service.events.wakeUpAll();
            return true;
        }

        @Override
        public boolean isCancelled() {
            return state.get() == CANCELLED;
        }

        @Override
        public boolean isDone() {
            return state.get() >= SUCCEEDED;
        }

        boolean succeeded() {
            return state.get() == SUCCEEDED;
        }

        @Override
        public T get() throws InterruptedException, ExecutionException {
            if (!isDone()) {
                service.awaitEvent(this::isDone, Platform.NO_DEADLINE);
            }
            return report();
        }

        @Override
        public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
            if (!isDone() && !service.awaitEvent(this::isDone, service.platform.deadlineAfter(toDuration(timeout, unit)))) {
                throw new TimeoutException("task on workqueue " + service.wq.name() + " did not finish within "
                        + toDuration(timeout, unit));
            }
            return report();
        }

        private T report() throws ExecutionException {
            switch (state.get()) {
                case SUCCEEDED:
                    return result;
                case FAILED:
                    throw new ExecutionException(failure);
                default:
                    throw new CancellationException("task on workqueue " + service.wq.name() + " was cancelled");
            }
        }

        @Override
        public String toString() {
            return "Future[" + service.itemName + ", " + new String[] {"pending", "running", "succeeded", "failed", "cancelled"}[state.get()] + "]";
        }
    }

    @Override
    public String toString() {
        return "WorkQueueExecutorService[" + wq.name() + (isTerminated() ? ", terminated" : shutdown ? ", shut down" : "") + "]";
    }
}
