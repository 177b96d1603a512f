package dev.rescuer.core.wq;

/**
 * Workqueue flags, the kernel's {@code enum wq_flags}. Ordered queues have no flag: create them with
 * {@link Workqueues#createOrdered}, as {@code alloc_ordered_workqueue()} does.
 */
public enum WqFlag {
    /**
     * The queue may be used on the memory reclaim path: it owns a rescuer thread, created with the
     * queue, that runs its items when the pool cannot create a worker ({@code WQ_MEM_RECLAIM}).
     */
    MEM_RECLAIM,
    /** Served by the high-priority pools, which have their own concurrency management ({@code WQ_HIGHPRI}). */
    HIGHPRI,
    /** Served by unbound pools, which are not concurrency-managed ({@code WQ_UNBOUND}). */
    UNBOUND,
    /** Items do not count toward the pool's concurrency level ({@code WQ_CPU_INTENSIVE}). */
    CPU_INTENSIVE,
    /**
     * Items run in the per-CPU softirq context, in atomic context, one at a time per CPU; only
     * {@link #HIGHPRI} may be combined with it, and it has no rescuer ({@code WQ_BH}).
     */
    BH,
    /** Items are held back while the system is frozen ({@code WQ_FREEZABLE}). */
    FREEZABLE
}
