package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The periodic check of the per-CPU pools' running workers ({@code wq_worker_tick}): a worker that
 * has run one item past {@code cpuIntensiveThreshold} is marked {@code CPU_INTENSIVE}, and a worker
 * whose thread the platform reports blocked outside it ({@link Platform#isBlockedOutsidePlatform})
 * is treated as sleeping until a later tick finds it running again. Either way it stops counting as
 * running and its pool wakes or creates another worker. The kernel runs this from the scheduler tick
 * of every CPU; here one timer, armed while some per-CPU pool is busy, every period (below).
 *
 * <p>Memory ordering, and why no start is missed. {@code armed} is an atomic flag. The tick clears
 * it <em>before</em> it scans the pools; a worker puts its item in the busy hash (under the pool's
 * lock) <em>before</em> it reads the flag, and arms the timer if it finds the flag clear. So either
 * the worker read the flag before the tick cleared it, and then its busy-hash entry precedes the
 * scan, which finds it and re-arms; or it read the cleared flag and arms the timer itself. (Clearing
 * after the scan, as an earlier version did, lost an item that started between the two.)
 *
 * <p>The clock. Each scan brings every per-CPU pool's {@linkplain WorkerPool#tickClock() tick
 * clock} up to date, and a worker stamps its items with that clock, not with a reading per item. A
 * stamp is thus early by at most the time since the last scan, one period with the tick on time
 * (the kernel's {@code current_at} is early by up to one scheduler tick in the same way). A timer
 * thread on a loaded machine can run late, though, and a stamp is then as old as the last scan; so a
 * run is marked only by a scan after one that already saw it running ({@link Worker#seenByTick()}):
 * it has then run for at least one period, whatever the stamp says. With the tick on time, and a
 * period {@code P} at most half the threshold {@code T}: a run is marked at the latest by the first
 * scan at which it has run {@code T} (it started before the previous scan, which saw it), at most
 * {@code T + P} after it started, as with a clock read per item; and a run shorter than
 * {@code max(P, T - P)} is never marked.
 *
 * <p>The period is half the threshold, or a quarter of the watchdog's threshold if that is shorter:
 * the watchdog reads the pools' progress stamps, which come from the same clock, and a stamp a
 * quarter of its threshold old cannot make a pool that starts items look stalled.
 */
final class CpuIntensiveTick {

    private final Platform platform;
    private final Workqueues.Stats stats;
    private final long thresholdNanos;
    private final Duration period;
    private final PlatformTimer timer;
    private final AtomicBoolean armed = new AtomicBoolean();
    /** The per-CPU pools, set once by the subsystem after it built them. */
    private volatile WorkerPool[] pools = new WorkerPool[0];
    private volatile boolean stopped;

    CpuIntensiveTick(Platform platform, WorkqueueConfig config, Workqueues.Stats stats) {
        this.platform = platform;
        this.stats = stats;
        this.thresholdNanos = config.cpuIntensiveThreshold().toNanos();
        this.period = period(config);
        this.timer = platform.newTimer("wq_tick", this::tick);
    }

    /** Half the CPU-intensive threshold, or a quarter of the watchdog's if that is enabled and shorter. */
    static Duration period(WorkqueueConfig config) {
        Duration half = config.cpuIntensiveThreshold().dividedBy(2);
        Duration watchdog = config.watchdogThreshold();
        if (watchdog.isZero()) {
            return half;
        }
        Duration quarter = watchdog.dividedBy(4);
        return quarter.compareTo(half) < 0 && !quarter.isZero() ? quarter : half;
    }

    void watch(WorkerPool[] perCpuPools) {
        this.pools = perCpuPools.clone();
    }

    /** Arms the tick if it is not armed. Called by a worker after its item is in the busy hash; never under a raw lock. */
    void ensureArmed() {
        if (!armed.get() && armed.compareAndSet(false, true) && !stopped) {
            timer.arm(period);
        }
    }

    /** Timer context: clear the flag, scan, re-arm while some pool is busy. */
    private void tick() {
        if (stopped) {
            return;
        }
        armed.set(false);
        long now = platform.nanoTime();
        boolean busy = false;
        for (WorkerPool p : pools) {
            p.lock.lock();
            try {
                p.advanceTickClock(now);
                for (Worker w : p.busyHash.workers()) {
                    busy = true;
                    if (!w.rescuer) {
                        check(p, w, now);
                    }
                }
            } finally {
                p.lock.unlock();
            }
        }
        if (busy) {
            ensureArmed();
        }
    }

    /** One busy worker of {@code p}. PL. */
    private void check(WorkerPool p, Worker w, long now) {
        if (w.task != null) {
            if (platform.isBlockedOutsidePlatform(w.task)) {
                if (w.markBlockedOutside()) {
                    stats.blockedOutside.increment();
                }
                return;
            }
            w.clearBlockedOutside();
        }
        if (w.sleeping || (w.flags & Worker.NOT_RUNNING) != 0) {
            return;
        }
        if (w.seenByTick() && now - w.currentAtNanos >= thresholdNanos) {
            w.setFlags(Worker.CPU_INTENSIVE);
            stats.cpuIntensiveMarked.increment();
            p.kick();
        }
    }

    /** Stops the tick for good and waits for a running callback. */
    void stop() {
        stopped = true;
        timer.cancelSync();
    }
}
