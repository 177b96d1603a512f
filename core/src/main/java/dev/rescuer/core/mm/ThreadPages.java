package dev.rescuer.core.mm;

import dev.rescuer.core.platform.ThreadStartCost;
import dev.rescuer.core.platform.ThreadStartException;

/**
 * The memory cost of starting a thread: {@code pagesPerThread} pages (its stack and task record),
 * allocated with {@code GFP_KERNEL} from a {@link PageAllocator} in the creating task, and freed
 * when the thread exits. Installed on a platform with
 * {@link dev.rescuer.core.platform.Platform#setThreadStartCost}.
 *
 * <p>Under memory pressure the charge enters direct reclaim in the creator, where a shrinker may
 * block, or fails after the allocator's retries; the latter surfaces as a
 * {@link ThreadStartException}. This is the mechanism that makes a workqueue unable to create
 * workers exactly when reclaim needs them, and so makes rescuers necessary. The creator's memalloc
 * scopes apply, as they would to any allocation it makes.
 */
public final class ThreadPages implements ThreadStartCost {

    private final PageAllocator allocator;
    private final int pagesPerThread;

    /**
     * @param pagesPerThread pages each thread costs; zero makes threads free
     */
    public ThreadPages(PageAllocator allocator, int pagesPerThread) {
        if (allocator == null) {
            throw new NullPointerException("allocator");
        }
        if (pagesPerThread < 0 || pagesPerThread > allocator.totalPages()) {
            throw new IllegalArgumentException("pagesPerThread must be in [0, " + allocator.totalPages() + "], got " + pagesPerThread);
        }
        this.allocator = allocator;
        this.pagesPerThread = pagesPerThread;
    }

    /** Pages each thread costs. */
    public int pagesPerThread() {
        return pagesPerThread;
    }

    /** A non-zero charge allocates with {@code GFP_KERNEL}, which may reclaim. */
    @Override
    public boolean mayReclaim() {
        return pagesPerThread > 0;
    }

    @Override
    public Refund charge(String threadName) {
        if (pagesPerThread == 0) {
            return () -> { };
        }
        try {
            Pages p = allocator.allocate(pagesPerThread, Gfp.KERNEL);
            return p::free;
        } catch (PageAllocationException e) {
            throw new ThreadStartException("cannot start thread " + threadName + ": no pages for its stack and task record ("
                    + e.getMessage() + ")", e);
        }
    }
}
