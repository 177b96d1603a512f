package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code kind: work-flush}: another user of {@code system_wq}. From {@code start_ms} on, a driver
 * queues a work item on {@code system_wq} whose function queues a second item on {@code system_wq}
 * and waits for it ({@code schedule_work} then {@code flush_work}, as a reset or teardown handler
 * flushes its event work), and the task waits for the first ({@code flush_work}). While the first item sleeps in {@code flush_work}, the second needs
 * another worker of the same pool; when the pool has none idle, its manager asks kthreadd for one
 * ({@code create_worker}), which allocates. The invariant: both items ran.
 */
public final class WorkFlushKind extends AbstractWorkloadKind<WorkFlushKind.Config> {

    /**
     * A work-flush entry.
     *
     * @param kind {@code work-flush}
     * @param name the driver's name; its items are {@code <name>/reset} and {@code <name>/event}
     * @param startMs when the first item is queued, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     */
    public record Config(String kind, String name, @JsonProperty("start_ms") MsRange startMs) {
    }

    /** The {@code kind: work-flush} entries. */
    public WorkFlushKind() {
        super("work-flush", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        StartDelay.check(c.startMs(), check);
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        WorkQueue wq = b.system().workqueues().systemWq();
        AtomicInteger ran = new AtomicInteger();
        Work event = new Work(c.name() + "/event", ran::incrementAndGet);
        Work reset = new Work(c.name() + "/reset", () -> {
            wq.queue(event);
            event.flush();
            ran.incrementAndGet();
        });
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            wq.queue(reset);
            reset.flush();
        });
        b.invariant(c.name() + ": both items ran", () -> ran.get() == 2);
    }
}
