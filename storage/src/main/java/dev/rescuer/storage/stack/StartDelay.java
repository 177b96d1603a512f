package dev.rescuer.storage.stack;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;

/**
 * A workload entry's {@code start_ms}: the task sleeps that long on the platform's clock before it
 * starts, as a command typed a little later would (an idle sleep, which the hung-task detector skips).
 */
final class StartDelay {

    private StartDelay() {
    }

    /** Checks a {@code start_ms} value. */
    static void check(Double startMs, StackCheck check) {
        if (startMs != null && (startMs < 0 || startMs.isNaN())) {
            throw check.error("start_ms", "must not be negative, got " + startMs);
        }
    }

    /** Checks a {@code start_ms} value or range ({@link DrawnMillis}: a range's bounds are checked where it is parsed). */
    static void check(DrawnMillis startMs, StackCheck check) {
        check(startMs == null ? null : startMs.lo(), check);
    }

    /** Sleeps {@code startMs} milliseconds (nothing for {@code null} or 0). */
    static void sleep(Platform platform, String task, Double startMs) {
        if (startMs == null || startMs == 0) {
            return;
        }
        WaitQueue.idle(platform, task + "/start_ms", "start_ms")
                .waitEventTimeout(() -> false, Duration.ofNanos(Math.round(startMs * 1_000_000)));
    }
}
