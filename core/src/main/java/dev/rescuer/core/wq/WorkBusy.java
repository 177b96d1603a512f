package dev.rescuer.core.wq;

/**
 * The bits {@link Work#busy()} reports, the kernel's {@code WORK_BUSY_PENDING} and
 * {@code WORK_BUSY_RUNNING}.
 */
public enum WorkBusy {
    /** Queued (on a list or a timer) and not started. */
    PENDING,
    /** Being executed by a worker, a rescuer or a BH context. */
    RUNNING
}
