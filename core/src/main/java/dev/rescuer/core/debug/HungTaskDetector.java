package dev.rescuer.core.debug;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.wq.Workqueues;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The hung-task detector ({@code kernel/hung_task.c}): every {@code timeout} of platform time it
 * looks at every task, and reports each one that has been blocked in a core primitive for longer
 * than the timeout, once per wait. Idle sleeps (idle workers, daemons waiting for requests) are not
 * reported, as the kernel skips {@code TASK_IDLE}.
 *
 * <p>A report names the task, its current work item if it is a worker ("Workqueue: wq func"), the
 * primitive it waits on, the tasks that hold that primitive (found in their task records, including
 * tasks that exited holding it, named "(exited)"), any
 * writer queued on a rw-semaphore it waits for, and what the task itself holds. Reports go to
 * listeners, and the first ten to {@code System.Logger}, after which logging is suppressed as the
 * kernel's {@code hung_task_warnings} does. The check runs on the platform's timer context, so a
 * simulator runs it on virtual time.
 */
public final class HungTaskDetector implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.hung_task");
    private static final int WARNINGS = 10;

    private final Platform platform;
    private final Duration timeout;
    private final PlatformTimer timer;
    private final List<Consumer<HungTaskReport>> listeners = new CopyOnWriteArrayList<>();
    private final Map<Task, Long> reported = new HashMap<>(); // timer context only
    private final AtomicInteger warningsLeft = new AtomicInteger(WARNINGS);

    /**
     * Starts checking every {@code timeout}.
     *
     * @throws IllegalArgumentException if the timeout is not positive
     */
    public HungTaskDetector(Platform platform, Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("hung-task timeout must be positive, got " + timeout);
        }
        this.platform = platform;
        this.timeout = timeout;
        this.timer = platform.newTimer("khungtaskd", this::check);
        timer.arm(timeout);
    }

    /** The timeout. */
    public Duration timeout() {
        return timeout;
    }

    /** Registers a listener for reports. */
    public void onHungTask(Consumer<HungTaskReport> listener) {
        listeners.add(listener);
    }

    private void check() {
        long now = platform.nanoTime();
        long limit = timeout.toNanos();
        List<Task> tasks = new ArrayList<>(platform.tasks());
        reported.keySet().retainAll(tasks);
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            if (t.state() != Task.State.BLOCKED || on == null || on.isIdleWait()) {
                continue;
            }
            long since = t.waitingSinceNanos();
            long blocked = now - since;
            if (blocked <= limit) {
                continue;
            }
            Long prev = reported.get(t);
            if (prev != null && prev == since) {
                continue; // this wait was reported already
            }
            reported.put(t, since);
            HungTaskReport r = new HungTaskReport(t, Duration.ofNanos(blocked), describe(t, on, blocked, tasks));
            if (warningsLeft.getAndDecrement() > 0) {
                LOG.log(Level.ERROR, r.text() + (warningsLeft.get() == 0 ? "\nFuture hung task reports are suppressed" : ""));
            }
            for (Consumer<HungTaskReport> l : listeners) {
                try {
                    l.accept(r);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "hung-task listener failed", e);
                }
            }
        }
        timer.arm(timeout);
    }

    private String describe(Task t, Primitive on, long blockedNanos, List<Task> tasks) {
        StringBuilder sb = new StringBuilder();
        sb.append("INFO: task ").append(t.name()).append(':').append(t.id()).append(" blocked for more than ")
                .append(timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " seconds" : timeout.toMillis() + " ms").append(".\n");
        sb.append("task:").append(t.name()).append(" state:D pid:").append(t.id()).append('\n');
        String wq = Workqueues.describeWorker(t);
        if (wq != null) {
            sb.append(wq).append('\n');
        }
        sb.append("  waiting on: ").append(on.describe()).append(" for ").append(String.format("%.3fs", blockedNanos / 1e9)).append('\n');
        List<String> holders = new ArrayList<>();
        for (Task o : tasks) {
            if (o != t && o.holds(on)) {
                holders.add(o.name() + ":" + o.id() + (o.waitingOn() != null ? " (itself waiting on " + o.waitingOn().describe() + ")" : ""));
            }
        }
        for (Task o : platform.exitedHolders()) {
            if (o.heldAtExit().contains(on)) {
                holders.add(o.name() + ":" + o.id() + " (exited)");
            }
        }
        sb.append("  held by: ").append(holders.isEmpty() ? "no task (any task may release it)" : String.join(", ", holders)).append('\n');
        if (on instanceof RwSemaphore) {
            List<Task> writers = ((RwSemaphore) on).queuedWriters();
            writers.remove(t);
            if (!writers.isEmpty()) {
                List<String> names = new ArrayList<>();
                for (Task w : writers) {
                    names.add(w.name() + ":" + w.id());
                }
                sb.append("  queued writers ahead (writer preference): ").append(String.join(", ", names)).append('\n');
            }
        }
        List<Primitive> held = t.heldPrimitives();
        if (!held.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (Primitive p : held) {
                names.add(p.describe());
            }
            sb.append("  holding: ").append(String.join(", ", names)).append('\n');
        }
        return sb.toString();
    }

    /** Stops checking. */
    @Override
    public void close() {
        timer.cancelSync(); // also disarms a check that re-armed itself meanwhile
    }
}
