package dev.rescuer.core.testing;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A platform task that a test drives one operation at a time, to check blocking behaviour without
 * sleeps: the test submits an operation, then waits (by polling the task's record, with a bound)
 * either for the operation to finish or for the task to be blocked in a given primitive.
 *
 * <p>Completion order is recorded in a shared sequence so tests can assert who was released first.
 * Test-only code: it uses {@code java.util.concurrent} and {@code LockSupport} freely to feed the
 * task its commands; the operations themselves run through the platform under test.
 */
public final class DrivenTask implements AutoCloseable {

    /** How long a bounded wait in a test may take before it is declared a failure. */
    public static final Duration PATIENCE = Duration.ofSeconds(20);

    private final Platform platform;
    private final Task task;
    private volatile Thread thread;
    private final ConcurrentLinkedQueue<Op> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicLong sequence;
    private volatile boolean stop;

    /** One submitted operation and its outcome. */
    public static final class Op {
        final Runnable body;
        volatile boolean done;
        volatile long completedAt;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Op(Runnable body) {
            this.body = body;
        }

        /** Whether the operation has finished (normally or by throwing). */
        public boolean isDone() {
            return done;
        }

        /** The completion sequence number (shared among the tasks of one test); 0 while running. */
        public long completedAt() {
            return completedAt;
        }

        /** What the operation threw, or {@code null}. */
        public Throwable failure() {
            return failure.get();
        }
    }

    /** Starts a driven task named {@code name} on {@code platform}; {@code sequence} orders completions. */
    public DrivenTask(Platform platform, String name, AtomicLong sequence) {
        this.platform = platform;
        this.sequence = sequence;
        this.task = platform.startThread(name, this::loop);
    }

    private void loop() {
        thread = Thread.currentThread();
        while (!stop) {
            Op op = inbox.poll();
            if (op == null) {
                LockSupport.park(this); // submit() and close() unpark
                continue;
            }
            try {
                op.body.run();
            } catch (Throwable t) {
                op.failure.set(t);
            }
            op.completedAt = sequence.incrementAndGet();
            op.done = true;
        }
    }

    /** The task under test. */
    public Task task() {
        return task;
    }

    /** Submits an operation without waiting. */
    public Op submit(Runnable body) {
        Op op = new Op(body);
        inbox.add(op);
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        return op;
    }

    /** Submits an operation and waits for it to finish; rethrows what it threw. */
    public void run(Runnable body) {
        Op op = submit(body);
        awaitDone(op);
        rethrow(op);
    }

    /** Submits an operation and waits until the task is blocked on {@code on}. */
    public Op runUntilBlocked(Runnable body, Primitive on) {
        Op op = submit(body);
        awaitBlocked(on, op);
        return op;
    }

    /** Waits until {@code op} has finished. */
    public static void awaitDone(Op op) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!op.done) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("operation did not finish within " + PATIENCE);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Waits until this task sleeps on {@code on} while running {@code op}. */
    public void awaitBlocked(Primitive on, Op op) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!(task.state() == Task.State.BLOCKED && task.waitingOn() == on)) {
            if (op.done) {
                throw new AssertionError("task " + task + " finished its operation instead of blocking on " + on.describe()
                        + (op.failure() != null ? " (it threw " + op.failure() + ")" : ""));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("task " + task + " did not block on " + on.describe() + " within " + PATIENCE
                        + "; it waits on " + task.waitingOn());
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Rethrows an operation's failure, if any. */
    public static void rethrow(Op op) {
        Throwable t = op.failure();
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        if (t != null) {
            throw new AssertionError(t);
        }
    }

    /**
     * Stops the task after its current operation and waits, at most {@link #PATIENCE}, for it to exit.
     * The wait is bounded (it polls instead of joining) so that a test which fails while the task is
     * still blocked reports its failure instead of hanging the build.
     *
     * @throws AssertionError if the task has not exited within {@link #PATIENCE}
     */
    @Override
    public void close() {
        stop = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!task.hasExited()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("task " + task + " did not exit within " + PATIENCE
                        + "; it is " + task.state() + (task.waitingOn() != null ? " on " + task.waitingOn().describe() : ""));
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
