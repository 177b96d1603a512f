package dev.rescuer.storage.stack;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;

/**
 * A workload entry's {@code start_ms}: the task sleeps that long on the platform's clock before it
 * starts, as a command typed a little later would (an idle sleep, which the hung-task detector skips).
 * The value may be a range ({@link MsRange}): the run draws the entry's delay once, when it starts
 * the workload (the setup task, in file order), from the run's workload stream.
 */
final class StartDelay {

    private StartDelay() {
    }

    /** Checks a {@code start_ms} value. */
    static void check(MsRange startMs, StackCheck check) {
        if (startMs != null) {
            startMs.check("start_ms", check);
        }
    }

    /** This run's delay in nanoseconds (0 for {@code null}); draws from the run's stream only for a range. Setup task only. */
    static long draw(StackBuild build, MsRange startMs) {
        return startMs == null ? 0 : startMs.drawNanos(build.random());
    }

    /** Sleeps {@code delayNanos} (nothing for 0). */
    static void sleep(Platform platform, String task, long delayNanos) {
        if (delayNanos == 0) {
            return;
        }
        WaitQueue.idle(platform, task + "/start_ms", "start_ms")
                .waitEventTimeout(() -> false, Duration.ofNanos(delayNanos));
    }
}
