package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.SleepListener;
import dev.rescuer.core.platform.Task;

/**
 * Declares a blocking call that does not go through a core primitive (JDBC, a file read, a socket),
 * so that a worker's pool treats the worker as sleeping for its duration and lets another worker run:
 * <pre>{@code
 * try (Blocking b = Blocking.enter(platform)) {
 *     resultSet = statement.executeQuery();
 * }
 * }</pre>
 * Outside a worker it does nothing. Entering it in atomic context throws
 * {@link dev.rescuer.core.platform.AtomicContextException}. Undeclared blocking is still survived, more
 * slowly: on a platform that can tell ({@link Platform#isBlockedOutsidePlatform}), the CPU-intensive
 * tick finds the worker blocked within half a threshold and stops counting it as running; elsewhere
 * a worker running one item past the CPU-intensive threshold stops counting as running.
 */
public final class Blocking implements AutoCloseable {

    private static final Primitive FOREIGN = new Primitive() {
        @Override public String name() { return "foreign blocking call"; }
        @Override public String kind() { return "blocking region"; }
    };

    private final Task task;
    private final SleepListener listener;
    private boolean closed;

    private Blocking(Task task, SleepListener listener) {
        this.task = task;
        this.listener = listener;
    }

    /** Enters a blocking region on the current task. */
    public static Blocking enter(Platform platform) {
        Task t = platform.currentTask();
        t.checkMaySleep(FOREIGN, "blocking region");
        SleepListener l = t.sleepListener();
        if (l != null) {
            l.sleeping(t);
        }
        return new Blocking(t, l);
    }

    /** Leaves the region; the worker counts as running again. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (listener != null) {
            listener.running(task);
        }
    }
}
