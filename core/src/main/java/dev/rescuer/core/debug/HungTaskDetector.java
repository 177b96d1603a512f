package dev.rescuer.core.debug;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
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
 *
 * <p><b>Blocking outside the platform.</b> A task the platform started that is found
 * {@linkplain Platform#isBlockedOutsidePlatform blocked outside the platform} (a JDK lock, a latch,
 * socket I/O) at looks at least a timeout apart, with an unchanged
 * {@linkplain Platform#switchCount switch count}, is reported once for that episode, with its JVM
 * stack instead of a primitive ({@link HungTaskReport#jvmStack()}). The kernel cannot see into user
 * code this way; the JVM can. Adopted threads (the application's own) are not watched: their waits
 * outside the platform, a join or a future, are ordinary.
 */
public final class HungTaskDetector implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.hung_task");
    private static final int WARNINGS = 10;

    private final Platform platform;
    private final Duration timeout;
    private final PlatformTimer timer;
    /** Copy-on-write: any task registers, the timer context iterates. */
    private final List<Consumer<HungTaskReport>> listeners = new CopyOnWriteArrayList<>();
    /** Per task, the start of the platform wait last reported. Timer context only. */
    private final Map<Task, Long> reported = new HashMap<>();
    /** Per started task seen blocked outside the platform, the episode being watched. Timer context only. */
    private final Map<Task, ForeignWait> foreign = new HashMap<>();
    /** Reports left before logging is suppressed. */
    private final AtomicInteger warningsLeft = new AtomicInteger(WARNINGS);

    /**
     * A task found blocked outside the platform: its switch count when first seen so, when that was,
     * and whether this episode has been reported. A new count is a new episode.
     */
    private record ForeignWait(long switches, long sinceNanos, boolean reported) {
    }

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
        foreign.keySet().retainAll(tasks);
        for (Task t : tasks) {
            Primitive on = t.waitingOn();
            if (t.state() == Task.State.BLOCKED) {
                foreign.remove(t);
                if (on != null && !on.isIdleWait()) {
                    checkPlatformWait(t, on, now, limit, tasks);
                }
            } else if (!t.isAdopted() && platform.isBlockedOutsidePlatform(t)) {
                checkForeignWait(t, now, limit);
            } else {
                foreign.remove(t);
            }
        }
        timer.arm(timeout);
    }

    /** A task sleeping in a core primitive: reported once per wait, when it has lasted past the timeout. */
    private void checkPlatformWait(Task t, Primitive on, long now, long limit, List<Task> tasks) {
        long since = t.waitingSinceNanos();
        long blocked = now - since;
        if (blocked <= limit) {
            return;
        }
        Long prev = reported.get(t);
        if (prev != null && prev == since) {
            return; // this wait was reported already
        }
        reported.put(t, since);
        publish(new HungTaskReport(t, Duration.ofNanos(blocked), describe(t, on, blocked, tasks), List.of()));
    }

    /**
     * A started task blocked outside the platform (a JDK lock, a latch, I/O). As {@code check_hung_task}
     * does with the switch count, an episode is the span over which the task's switch count stays the
     * same; it is reported once, when it has lasted for the timeout, with the thread's JVM stack.
     * Adopted tasks are the application's own threads, whose waits outside the platform (a join, a
     * future, a sleep) are ordinary; they are not watched.
     */
    private void checkForeignWait(Task t, long now, long limit) {
        long switches = platform.switchCount(t);
        ForeignWait seen = foreign.get(t);
        if (seen == null || seen.switches() != switches) {
            foreign.put(t, new ForeignWait(switches, now, false));
            return;
        }
        long blocked = now - seen.sinceNanos();
        if (seen.reported() || blocked < limit) {
            return;
        }
        foreign.put(t, new ForeignWait(switches, seen.sinceNanos(), true));
        List<StackTraceElement> stack = List.of(platform.stackOf(t));
        publish(new HungTaskReport(t, Duration.ofNanos(blocked), describeForeign(t, blocked, stack), stack));
    }

    private void publish(HungTaskReport r) {
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

    /** The report's first lines: the kernel's banner, and the work item if the task is a worker. */
    private StringBuilder header(Task t) {
        StringBuilder sb = new StringBuilder();
        sb.append("INFO: task ").append(t.name()).append(':').append(t.id()).append(" blocked for more than ")
                .append(timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " seconds" : timeout.toMillis() + " ms").append(".\n");
        sb.append("task:").append(t.name()).append(" state:D pid:").append(t.id()).append('\n');
        String wq = Workqueues.describeWorker(t);
        if (wq != null) {
            sb.append(wq).append('\n');
        }
        return sb;
    }

    private String describeForeign(Task t, long blockedNanos, List<StackTraceElement> stack) {
        StringBuilder sb = header(t);
        sb.append("  blocked outside the platform (in JDK or user code the runtime cannot see) for at least ")
                .append(String.format("%.3fs", blockedNanos / 1e9)).append('\n');
        sb.append("  JVM stack:\n");
        if (stack.isEmpty()) {
            sb.append("    (not available)\n");
        }
        for (StackTraceElement e : stack) {
            sb.append("    at ").append(e).append('\n');
        }
        appendHeld(sb, t);
        return sb.toString();
    }

    private static void appendHeld(StringBuilder sb, Task t) {
        List<Primitive> held = t.heldPrimitives();
        if (!held.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (Primitive p : held) {
                names.add(p.describe());
            }
            sb.append("  holding: ").append(String.join(", ", names)).append('\n');
        }
    }

    private String describe(Task t, Primitive on, long blockedNanos, List<Task> tasks) {
        StringBuilder sb = header(t);
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
        sb.append("  held by: ").append(holders.isEmpty() ? nobodyHolds(on) : String.join(", ", holders)).append('\n');
        if (on instanceof RwSemaphore rw) {
            List<String> names = new ArrayList<>();
            for (Task w : rw.writersQueuedAhead(t)) { // only writers queued ahead of it keep it waiting
                names.add(w.name() + ":" + w.id());
            }
            if (!names.isEmpty()) {
                sb.append("  queued writers ahead (writer preference): ").append(String.join(", ", names)).append('\n');
            }
        }
        appendHeld(sb, t);
        return sb.toString();
    }

    /**
     * What "held by" says when no task holds {@code on}: a lock ({@link Mutex}, {@link RwSemaphore})
     * only its holder releases, so one that nobody holds is free and its waiter has yet to take it (a
     * woken waiter that has not run, or a wake-up that never came); any other primitive (an event, a
     * counting semaphore, a wait queue) may be released by any task.
     */
    private static String nobodyHolds(Primitive on) {
        return on instanceof Mutex || on instanceof RwSemaphore
                ? "no task (the lock is free: the waiter has yet to take it)"
                : "no task (any task may release it)";
    }

    /** Stops checking. */
    @Override
    public void close() {
        timer.cancelSync(); // also disarms a check that re-armed itself meanwhile
    }
}
