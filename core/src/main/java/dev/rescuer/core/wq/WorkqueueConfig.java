package dev.rescuer.core.wq;

import java.time.Duration;

/**
 * The workqueue subsystem's tunables, with the kernel's defaults.
 *
 * @param cpus number of CPUs, hence of per-CPU pools and BH contexts; default: the JVM's processor count
 * @param idleTimeout how long an extra idle worker lives ({@code IDLE_WORKER_TIMEOUT}, 300 s)
 * @param maydayInitial delay before a pool that cannot create a worker calls rescuers ({@code MAYDAY_INITIAL_TIMEOUT}, 10 ms)
 * @param maydayInterval interval of further mayday calls ({@code MAYDAY_INTERVAL}, 100 ms)
 * @param createCooldown pause between failed worker creations ({@code CREATE_COOLDOWN}, 1 s)
 * @param rescuerBatch items a rescuer runs for one queue before letting other pools' maydays in ({@code RESCUER_BATCH}, 16)
 * @param cpuIntensiveThreshold how long one item may run before its worker stops counting as running
 *     ({@code wq_cpu_intensive_thresh_us}, 10 ms)
 * @param flushDependencyIsError whether a flush that violates reclaim ordering ({@code check_flush_dependency})
 *     throws instead of logging a warning; default {@code false}
 * @param watchdogThreshold how long a pool may have waiting items without progress before the watchdog
 *     reports a lockup ({@code workqueue.watchdog_thresh}, 30 s); {@link Duration#ZERO} disables it
 */
public record WorkqueueConfig(
        int cpus,
        Duration idleTimeout,
        Duration maydayInitial,
        Duration maydayInterval,
        Duration createCooldown,
        int rescuerBatch,
        Duration cpuIntensiveThreshold,
        boolean flushDependencyIsError,
        Duration watchdogThreshold) {

    /** Validates every field. */
    public WorkqueueConfig {
        if (cpus < 1 || cpus > 1024) {
            throw new IllegalArgumentException("workqueue config: cpus must be in [1, 1024], got " + cpus);
        }
        positive("idleTimeout", idleTimeout);
        positive("maydayInitial", maydayInitial);
        positive("maydayInterval", maydayInterval);
        positive("createCooldown", createCooldown);
        positive("cpuIntensiveThreshold", cpuIntensiveThreshold);
        if (watchdogThreshold == null || watchdogThreshold.isNegative()) {
            throw new IllegalArgumentException("workqueue config: watchdogThreshold must be >= 0 (0 disables), got " + watchdogThreshold);
        }
        if (rescuerBatch < 1) {
            throw new IllegalArgumentException("workqueue config: rescuerBatch must be >= 1, got " + rescuerBatch);
        }
    }

    private static void positive(String field, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("workqueue config: " + field + " must be a positive duration, got " + d);
        }
    }

    /** The kernel's defaults, on the JVM's processor count. */
    public static WorkqueueConfig defaults() {
        return new WorkqueueConfig(Runtime.getRuntime().availableProcessors(), Duration.ofSeconds(300),
                Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofSeconds(1), 16, Duration.ofMillis(10), false, Duration.ofSeconds(30));
    }

    /** This config with {@code cpus} CPUs. */
    public WorkqueueConfig withCpus(int cpus) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, createCooldown, rescuerBatch,
                cpuIntensiveThreshold, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with another idle timeout. */
    public WorkqueueConfig withIdleTimeout(Duration d) {
        return new WorkqueueConfig(cpus, d, maydayInitial, maydayInterval, createCooldown, rescuerBatch,
                cpuIntensiveThreshold, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with other mayday timings. */
    public WorkqueueConfig withMayday(Duration initial, Duration interval) {
        return new WorkqueueConfig(cpus, idleTimeout, initial, interval, createCooldown, rescuerBatch,
                cpuIntensiveThreshold, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with another creation cooldown. */
    public WorkqueueConfig withCreateCooldown(Duration d) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, d, rescuerBatch,
                cpuIntensiveThreshold, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with another rescuer batch. */
    public WorkqueueConfig withRescuerBatch(int batch) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, createCooldown, batch,
                cpuIntensiveThreshold, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with another CPU-intensive threshold. */
    public WorkqueueConfig withCpuIntensiveThreshold(Duration d) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, createCooldown, rescuerBatch,
                d, flushDependencyIsError, watchdogThreshold);
    }

    /** This config with flush-dependency violations reported as errors (or warnings). */
    public WorkqueueConfig withFlushDependencyIsError(boolean error) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, createCooldown, rescuerBatch,
                cpuIntensiveThreshold, error, watchdogThreshold);
    }

    /** This config with another watchdog threshold; {@link Duration#ZERO} disables the watchdog. */
    public WorkqueueConfig withWatchdogThreshold(Duration d) {
        return new WorkqueueConfig(cpus, idleTimeout, maydayInitial, maydayInterval, createCooldown, rescuerBatch,
                cpuIntensiveThreshold, flushDependencyIsError, d);
    }
}
