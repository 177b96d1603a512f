package dev.rescuer.core.platform;

/**
 * What starting a thread costs, charged to the creating task before the thread exists.
 *
 * <p>In the kernel a new kthread needs a stack and a {@code task_struct}, allocated with
 * {@code GFP_KERNEL} by the creator; under memory pressure that allocation enters direct reclaim and
 * can block or fail. That is the reason rescuers exist. The memory model installs a cost that takes
 * pages from the system's page allocator (see {@code dev.rescuer.core.mm.ThreadPages}); a bare
 * platform charges nothing.
 */
@FunctionalInterface
public interface ThreadStartCost {

    /** Charges nothing. */
    ThreadStartCost FREE = threadName -> () -> { };

    /**
     * Charges the current (creating) task for a thread named {@code threadName}. May block.
     *
     * @return the refund to run when the thread has exited, or when the start fails after the charge
     * @throws ThreadStartException when the charge cannot be paid; nothing is charged then
     */
    Refund charge(String threadName);

    /** Whether a charge may enter direct memory reclaim (and so block on shrinkers). */
    default boolean mayReclaim() {
        return false;
    }

    /** Gives a charge back. Must not block; it runs on the exiting thread. */
    @FunctionalInterface
    interface Refund {
        void refund();
    }
}
