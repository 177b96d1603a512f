package dev.rescuer.core.mm;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.WaitQueue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The background reclaimer of one {@link PageAllocator}, the kernel's kswapd: a platform thread that
 * sleeps on a wait queue until an allocation finds free pages below the low watermark, then runs the
 * shrinkers in {@code GFP_KERNEL} context, inside a {@code NORECLAIM} scope, until free pages reach
 * the high watermark or a pass frees nothing. Fruitless runs are counted; after the allocator's retry
 * limit it ignores wake-ups until its failure count is reset (pages freed up to high, or a direct
 * reclaim that made progress).
 */
final class Kswapd {

    private final PageAllocator allocator;
    private final Platform platform;
    private final String threadName;
    private final WaitQueue wait;
    /** Fruitless runs since the last reset ({@code kswapd_failures}). Atomic: kswapd counts, any task resets. */
    private final AtomicInteger failures = new AtomicInteger();
    /** Statistics; exact only when quiescent. */
    private final LongAdder wakeups = new LongAdder();
    private final LongAdder runs = new LongAdder();
    /** Set by any allocating task before waking {@code wait}; cleared by kswapd. Volatile: its wait condition. */
    private volatile boolean wakeRequested;
    /** Set once by close; read by kswapd's wait condition and by {@code start}. Volatile. */
    private volatile boolean stopping;
    /** The kswapd task once started. Volatile: written by the starter, read by any allocating task. */
    private volatile Task task;

    Kswapd(PageAllocator allocator, Platform platform, String allocatorName) {
        this.allocator = allocator;
        this.platform = platform;
        this.threadName = "kswapd/" + allocatorName;
        this.wait = WaitQueue.idle(platform, threadName + "/wait", "kswapd_wait");
    }

    void start() {
        if (stopping) {
            throw new IllegalStateException(threadName + ": the allocator is closed");
        }
        if (task != null) {
            throw new IllegalStateException(threadName + " is already running");
        }
        task = platform.startThread(threadName, this::run);
    }

    Task task() {
        Task t = task;
        return t == null || t.hasExited() ? null : t;
    }

    /** Called from an allocation's slow path ({@code wakeup_kswapd}). Never sleeps. */
    void wake() {
        if (task == null || failures.get() >= Math.max(1, allocator.reclaimRetries()) || allocator.balanced()) {
            return; // every slow-path allocation wakes kswapd, as wake_all_kswapds() does; it stops at high
        }
        if (!wakeRequested) {
            wakeRequested = true;
            wakeups.increment();
            wait.wakeUp();
        }
    }

    void resetFailures() {
        if (failures.get() != 0) {
            failures.set(0);
        }
    }

    private void run() {
        try (MemallocScope s = MemallocScope.noreclaim(platform)) {
            while (true) {
                wait.waitEvent(() -> stopping || wakeRequested);
                if (stopping) {
                    return;
                }
                wakeRequested = false;
                runs.increment();
                long progress = 0;
                while (!stopping && !allocator.balanced()) {
                    long got = allocator.shrink(Math.max(PageAllocator.RECLAIM_CLUSTER, allocator.pagesToHigh()), Gfp.KERNEL, Reclaimer.KSWAPD);
                    if (got <= 0) {
                        break;
                    }
                    progress += got;
                }
                if (progress == 0 && !allocator.balanced()) {
                    failures.incrementAndGet();
                } else {
                    failures.set(0);
                }
            }
        }
    }

    /** Stops the thread and waits for it to exit. Idempotent. */
    void stop() {
        stopping = true;
        wait.wakeUpAll();
        Task t = task;
        if (t != null && t != platform.currentTask()) {
            platform.join(t);
        }
    }

    long wakeups() {
        return wakeups.sum();
    }

    long runs() {
        return runs.sum();
    }
}
