package dev.rescuer.storage.stack;

import dev.rescuer.core.platform.Platform;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A writer task's counters for measurements, in the run's virtual time: {@code pages_written <task>}
 * (pages it wrote), {@code writer_start_ns <task>} (when its body began, after any {@code start_ms};
 * -1 before) and {@code writer_end_ns <task>} (when it returned, or the clock at the run's stop if it
 * had not). A writer's throughput is its pages over end minus start.
 *
 * <p><b>Memory ordering.</b> {@code start} and {@code end} are atomics written once each by the
 * writer's task and read, each on its own, when the run stops.
 */
final class WriterMeter {

    /** Prefix of the pages counter. */
    static final String PAGES_WRITTEN = "pages_written ";
    /** Prefix of the start counter. */
    static final String START_NS = "writer_start_ns ";
    /** Prefix of the end counter. */
    static final String END_NS = "writer_end_ns ";

    private final Platform platform;
    private final AtomicLong start = new AtomicLong(-1);
    private final AtomicLong end = new AtomicLong(-1);

    private WriterMeter(Platform platform) {
        this.platform = platform;
    }

    /** Declares writer {@code task}'s counters; {@code pagesWritten} must be lock-free. */
    static WriterMeter declare(StackBuild b, String task, LongSupplier pagesWritten) {
        WriterMeter m = new WriterMeter(b.system().platform());
        b.counter(PAGES_WRITTEN + task, pagesWritten);
        b.counter(START_NS + task, m.start::get);
        b.counter(END_NS + task, () -> {
            long e = m.end.get();
            return e >= 0 || m.start.get() < 0 ? e : m.platform.nanoTime();
        });
        return m;
    }

    /** Runs the writer's {@code body}, recording when it began and returned. */
    void time(Runnable body) {
        start.set(platform.nanoTime());
        try {
            body.run();
        } finally {
            end.set(platform.nanoTime());
        }
    }
}
