package dev.rescuer.core.wq;

import java.util.List;

/**
 * A workqueue lockup found by the watchdog: one line per stuck pool, in the kernel's words, and the
 * dump of busy queues and pools taken at the same check.
 *
 * @param stalls one "BUG: workqueue lockup - pool ... stuck for Ns!" line per stuck pool
 * @param dump {@link Workqueues#dump()} at the time of the check
 */
public record LockupReport(List<String> stalls, String dump) {

    public LockupReport {
        stalls = List.copyOf(stalls);
    }

    /** The whole report, as it is logged. */
    public String text() {
        return String.join("\n", stalls) + "\n" + dump;
    }
}
