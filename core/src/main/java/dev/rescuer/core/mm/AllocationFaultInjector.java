package dev.rescuer.core.mm;

import dev.rescuer.core.platform.Task;

/**
 * Decides whether an allocation fails on purpose ({@code fail_page_alloc}), so that tests and the
 * simulator can exercise failure paths without exhausting memory. Consulted only for allocations that
 * may fail; {@code NOFAIL} ones never see it.
 */
@FunctionalInterface
public interface AllocationFaultInjector {

    /**
     * Whether this allocation fails.
     *
     * @param pages how many pages are asked for
     * @param effective the allocation's context after the task's scopes
     * @param task the allocating task
     */
    boolean shouldFail(int pages, Gfp effective, Task task);
}
