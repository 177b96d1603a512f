package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;

import java.util.ArrayList;
import java.util.List;

/**
 * A task that allocates {@code pages} pages one at a time (or, with {@code leave_free}, until no more
 * than that many pages are free), holds them for {@code hold_ms} milliseconds of platform time, then
 * frees them all: a process faulting in anonymous memory and keeping it. The hold is an interruptible sleep, which the hung-task detector does not report. Each page is {@code GFP_KERNEL|__GFP_NOFAIL}: a page fault
 * retries until it gets its page (the kernel would OOM-kill someone; this model has no OOM killer),
 * so under pressure the hog sits in direct reclaim, pushing free memory to the min watermark.
 *
 * <p>Settings: {@code pages} (>= 1) or {@code leave_free} (>= 0), exactly one of them;
 * {@code hold_ms} (default 0). {@code leave_free} sizes the hog from what is free when it runs, as a
 * process sized from {@code MemAvailable} would be: the memory left over does not depend on how many
 * threads (rescuers, workers) the rest of the system started before it. The hog allocates only while
 * more than {@code leave_free} pages are free, so it never takes memory below that itself; a page it
 * asks for may still need reclaim when others allocate concurrently.
 */
public final class MemoryHog extends AbstractWorkload {

    private final WorkloadEnv env;
    /** Pages to allocate, or -1 with {@link #leaveFree}. */
    private final int pages;
    /** With {@code pages == -1}: allocate while more than this many pages are free. */
    private final int leaveFree;
    private final Duration hold;

    private MemoryHog(String name, int pages, int leaveFree, Duration hold, WorkloadEnv env) {
        super(name, pages < 0 ? 1 : pages, env);
        this.env = env;
        this.pages = pages;
        this.leaveFree = leaveFree;
        this.hold = hold;
    }

    /** Builds a hog from settings. */
    public static MemoryHog build(String name, Settings s, WorkloadEnv env) {
        boolean sized = s.has("leave_free");
        if (sized == s.has("pages")) {
            throw new WorkloadConfigException(s.where(), sized ? "leave_free" : "pages",
                    sized ? "give either pages or leave_free, not both" : "is required (or leave_free)");
        }
        int pages = sized ? -1 : s.integer("pages", 1);
        int leaveFree = sized ? s.integer("leave_free", 0) : 0;
        int holdMs = s.integer("hold_ms", 0, 0);
        s.checkAllUsed("pages", "leave_free", "hold_ms");
        if (pages >= env.allocator().totalPages()) {
            throw new WorkloadConfigException(s.where(), "pages", pages + " pages is not less than all of memory ("
                    + env.allocator().totalPages() + " pages)");
        }
        if (leaveFree >= env.allocator().totalPages()) {
            throw new WorkloadConfigException(s.where(), "leave_free", leaveFree + " pages is not less than all of memory ("
                    + env.allocator().totalPages() + " pages)");
        }
        return new MemoryHog(name, pages, leaveFree, Duration.ofMillis(holdMs), env);
    }

    @Override
    void body() {
        List<Pages> held = new ArrayList<>(Math.max(pages, 0));
        try {
            if (pages >= 0) {
                for (int i = 0; i < pages; i++) {
                    held.add(env.allocator().allocate(1, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL)));
                    advance();
                }
            } else {
                while (env.allocator().freePages() > leaveFree) {
                    held.add(env.allocator().allocate(1, Gfp.KERNEL.with(Gfp.Modifier.NOFAIL)));
                }
                advance(); // its one unit: sized and holding
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
