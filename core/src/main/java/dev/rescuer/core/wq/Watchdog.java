package dev.rescuer.core.wq;

import dev.rescuer.core.platform.PlatformTimer;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The workqueue lockup detector ({@code CONFIG_WQ_WATCHDOG}): every {@code threshold} of platform
 * time it checks each pool, and a pool that has had items waiting with no forward progress (no item
 * started, nothing activated onto an empty worklist) for longer than the threshold is reported as
 * "BUG: workqueue lockup", followed by a dump of every busy queue and pool ({@link Workqueues#dump()}).
 * A stall is reported at every check until the pool makes progress. Reports go to the registered
 * listeners and to {@code System.Logger} at ERROR. A per-CPU pool's progress stamps come from its
 * {@linkplain WorkerPool#tickClock() tick clock}, early by up to one tick period, which
 * {@link CpuIntensiveTick#period} keeps within a quarter of this threshold.
 */
final class Watchdog {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.wq");

    private final Workqueues sys;
    private final Duration threshold;
    private final PlatformTimer timer;
    private final List<Consumer<LockupReport>> listeners = new CopyOnWriteArrayList<>();

    Watchdog(Workqueues sys, Duration threshold) {
        this.sys = sys;
        this.threshold = threshold;
        this.timer = sys.platform().newTimer("wq_watchdog", this::check);
    }

    void start() {
        timer.arm(threshold);
    }

    /** Stops the checks; on return no check runs or is armed (cancelSync disarms a re-arming callback). */
    void stop() {
        timer.cancelSync();
    }

    void addListener(Consumer<LockupReport> l) {
        listeners.add(l);
    }

    /** Timer context: check every pool, report stalls, re-arm. */
    private void check() {
        long now = sys.platform().nanoTime();
        long thresh = threshold.toNanos();
        List<String> stalls = new ArrayList<>();
        for (WorkerPool p : sys.allPools()) {
            p.lock.lock();
            try {
                p.drainInboxes();
                long stuck = now - p.lastProgressNanos;
                if (!p.worklist.isEmpty() && stuck > thresh) {
                    stalls.add("BUG: workqueue lockup - pool " + p.describe() + " stuck for " + Workqueues.seconds(stuck) + "!");
                }
            } finally {
                p.lock.unlock();
            }
        }
        if (!stalls.isEmpty()) {
            LockupReport r = new LockupReport(stalls, sys.dump());
            LOG.log(Level.ERROR, r.text());
            for (Consumer<LockupReport> l : listeners) {
                try {
                    l.accept(r);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "workqueue lockup listener failed", e);
                }
            }
        }
        timer.arm(threshold);
    }
}
