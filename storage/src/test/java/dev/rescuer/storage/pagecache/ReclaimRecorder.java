package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * For tests on real threads: what direct reclaim saw while the calling task ran an action. Free
 * memory is taken down to the min watermark first, so that every allocation of the action
 * reclaims; a shrinker that frees one of the taken pages per call records {@code probe} of each
 * call's context made in the calling task (calls from other tasks, such as kthreadd creating a
 * worker, free a page too but are not recorded). The taken pages are freed afterwards.
 */
public final class ReclaimRecorder {

    private ReclaimRecorder() {
    }

    /** Runs {@code action} at the min watermark and returns {@code probe} of each reclaim context of this task. */
    public static <T> List<T> during(PageAllocator pages, Platform platform, Function<Gfp, T> probe, Runnable action) {
        List<T> seen = new CopyOnWriteArrayList<>();
        List<Pages> held = new ArrayList<>(); // Guarded by itself
        Task me = platform.currentTask();
        try {
            while (pages.freePages() > pages.minWatermark()) {
                held.add(pages.allocate(1, Gfp.NOIO));
            }
            try (ShrinkerRegistration r = pages.registerShrinker(new Shrinker() {
                @Override
                public String name() {
                    return "reclaim-recorder";
                }

                @Override
                public long count(ShrinkControl control) {
                    synchronized (held) {
                        return held.isEmpty() ? 0 : 1;
                    }
                }

                @Override
                public long scan(ShrinkControl control) {
                    if (platform.currentTask() == me) {
                        seen.add(probe.apply(control.gfp()));
                    }
                    synchronized (held) {
                        if (held.isEmpty()) {
                            return 0;
                        }
                        held.remove(held.size() - 1).free();
                    }
                    return 1;
                }
            })) {
                action.run();
            }
        } finally {
            synchronized (held) {
                held.forEach(Pages::free);
                held.clear();
            }
        }
        return seen;
    }
}
