package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;

import java.util.ArrayList;
import java.util.List;

/**
 * A task that allocates {@code pages} pages one at a time, holds them for {@code hold_ms}
 * milliseconds of platform time, then frees them all: a process faulting in anonymous memory and
 * keeping it. The hold is an interruptible sleep, which the hung-task detector does not report. Each page is {@code GFP_KERNEL|__GFP_NOFAIL}: a page fault
 * retries until it gets its page (the kernel would OOM-kill someone; this model has no OOM killer),
 * so under pressure the hog sits in direct reclaim, pushing free memory to the min watermark.
 *
 * <p>Settings: {@code pages} (required, >= 1), {@code hold_ms} (default 0).
 */
public final class MemoryHog extends AbstractWorkload {

    private final WorkloadEnv env;
    private final int pages;
    private final Duration hold;

    private MemoryHog(String name, int pages, Duration hold, WorkloadEnv env) {
        super(name, pages, env);
        this.env = env;
        this.pages = pages;
        this.hold = hold;
    }

    /** Builds a hog from settings. */
    public static MemoryHog build(String name, Settings s, WorkloadEnv env) {
        int pages = s.integer("pages", 1);
        int holdMs = s.integer("hold_ms", 0, 0);
        s.checkAllUsed("pages", "hold_ms");
        if (pages >= env.allocator().totalPages()) {
            throw new WorkloadConfigException(s.where(), "pages", pages + " pages is not less than all of memory ("
                    + env.allocator().totalPages() + " pages)");
        }
        return new MemoryHog(name, pages, Duration.ofMillis(holdMs), env);
    }

    @Override
    void body() {
        List<Pages> held = new ArrayList<>(pages);
        try {
            for (int i = 0; i < pages; i++) {
                held.add(env.allocator().allocate(1, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL)));
                advance();
            }
            if (!hold.isZero()) {
                WaitQueue.idle(env.allocator().platform(), name() + "/hold", "hog_hold").waitEventTimeout(() -> false, hold);
            }
        } finally {
            for (Pages p : held) {
                p.close();
            }
        }
    }
}
