package dev.rescuer.storage.loop;

/**
 * Who serves a loop device's requests; the kernel has had both.
 */
public enum LoopWorkerMode {
    /**
     * One kthread-style worker per device, {@code loop<N>} ({@code kthread_worker} with
     * {@code loop_kthread_worker_fn}, 4.4 to 5.12): the device's single service thread.
     */
    KTHREAD("kthread"),
    /**
     * A per-device workqueue ({@code alloc_workqueue("loop%d", WQ_UNBOUND | WQ_FREEZABLE, 0)}) whose
     * work item runs {@code loop_workqueue_workfn} (5.13 on; per-cgroup workers are left out).
     */
    WORKQUEUE("workqueue");

    private final String key;

    LoopWorkerMode(String key) {
        this.key = key;
    }

    /** The spelling used in settings. */
    public String key() {
        return key;
    }

    /** The mode spelled {@code key}; the error lists the valid spellings. */
    public static LoopWorkerMode of(String key) {
        for (LoopWorkerMode m : values()) {
            if (m.key.equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown loop worker mode '" + key + "'; expected kthread or workqueue");
    }
}
