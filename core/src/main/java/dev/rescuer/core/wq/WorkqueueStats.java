package dev.rescuer.core.wq;

/**
 * A snapshot of the workqueue subsystem's counters.
 *
 * @param queued successful queueings
 * @param executed item runs finished (by workers, rescuers and BH contexts)
 * @param failures item runs that threw
 * @param workersCreated worker threads created
 * @param workerCreationFailures worker creations that failed
 * @param workersReaped idle workers retired
 * @param maydays mayday calls that reached a rescuer
 * @param rescued items run by rescuers
 * @param cpuIntensiveMarked runs that exceeded the CPU-intensive threshold and stopped counting as running
 * @param flushDependencyViolations flushes reported by {@code check_flush_dependency}
 * @param leaks item runs that left a lock, atomic context or memalloc scope behind
 *     ("BUG: workqueue leaked lock or atomic")
 * @param blockedOutside times a running worker was found blocked outside the platform and stopped
 *     counting as running
 */
public record WorkqueueStats(
        long queued,
        long executed,
        long failures,
        long workersCreated,
        long workerCreationFailures,
        long workersReaped,
        long maydays,
        long rescued,
        long cpuIntensiveMarked,
        long flushDependencyViolations,
        long leaks,
        long blockedOutside) {
}
