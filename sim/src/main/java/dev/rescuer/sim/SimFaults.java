package dev.rescuer.sim;

import dev.rescuer.core.mm.AllocationFaultInjector;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Workqueues;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * Fault injection for one simulated run: thread starts that fail, allocations that fail, timers that
 * fire late. Every random draw comes from the run's fault stream, so faults replay with the seed.
 * Faults apply from the moment they are configured; a scenario usually sets them before building
 * its system, or right after, to let the system's own threads start.
 */
public final class SimFaults {

    private boolean threadStartAlways;
    /** Pool-worker starts that succeed before every later one fails, or -1 for no such fault. */
    private int workerStartsAllowed = -1;
    /** Pool-worker starts counted against {@link #workerStartsAllowed}. */
    private int workerStarts;
    private int threadStartsAllowed = -1;
    private int threadStarts;
    private double threadStartProbability;
    private long threadStartFreePagesMark = -1;
    private LongSupplier freePages;
    private double allocationProbability;
    private Duration maxTimerLatency = Duration.ZERO;
    private final SplittableRandom random;

    /** Faults drawing from {@code random}, the run's fault stream. */
    SimFaults(SplittableRandom random) {
        this.random = random;
    }

    /** Every thread start fails. */
    public SimFaults threadStartFailsAlways() {
        threadStartAlways = true;
        return this;
    }

    /**
     * Every start of a pool's worker thread (one {@code create_worker} asks for, as the runtime tells
     * by {@link Workqueues#startsPoolWorker}, never by the thread's name) fails; rescuers and every
     * other thread still start, a task named like a kworker included. The kernel's counterpart is
     * {@code failslab} with {@code task-filter} and {@code make-it-fail} set on the pools' kworkers:
     * a manager's {@code alloc_worker} in {@code create_worker} fails, while {@code alloc_workqueue}'s
     * rescuer, created by the caller, does not. Workers that exist keep running.
     */
    public SimFaults workerStartFailsAlways() {
        workerStartsAllowed = 0; // workerStartFailsAfter(0, 0) without its draw from the fault stream
        workerStarts = 0;
        return this;
    }

    /**
     * The next {@code n} starts of a pool's worker thread succeed and every later one fails, with
     * {@code n} drawn uniformly from {@code lo..hi} (both included) from the run's fault stream, so
     * that each schedule's workers start failing at its own point and the point replays with the
     * seed; {@code lo == hi} fixes it. Rescuers and other threads start as before. The kernel's
     * counterpart is {@code failslab} with {@code task-filter} on the kworkers and a {@code space}
     * budget: allocations succeed until the budget is spent, then every one fails, as memory that
     * runs short at a moment nobody chose. With {@code n == 0} it is {@link #workerStartFailsAlways()},
     * which sets the same budget but draws nothing: a draw is made even for {@code lo == hi}, so that
     * the rest of the fault stream (timer latencies, allocation faults) is the same for every budget
     * of one form.
     *
     * @return the {@code n} drawn
     * @throws IllegalArgumentException unless {@code 0 <= lo <= hi}
     */
    public int workerStartFailsAfter(int lo, int hi) {
        if (lo < 0 || hi < lo) {
            throw new IllegalArgumentException("worker starts allowed must be a range lo..hi with 0 <= lo <= hi, got "
                    + lo + ".." + hi);
        }
        workerStartsAllowed = lo + random.nextInt(hi - lo + 1);
        workerStarts = 0;
        return workerStartsAllowed;
    }

    /** The next {@code n} thread starts succeed; every later one fails. */
    public SimFaults threadStartFailsAfter(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("thread starts allowed must be >= 0, got " + n);
        }
        threadStartsAllowed = n;
        threadStarts = 0;
        return this;
    }

    /** Each thread start fails with probability {@code p}. */
    public SimFaults threadStartFailsWithProbability(double p) {
        threadStartProbability = probability("thread start failure probability", p);
        return this;
    }

    /**
     * A thread start fails while {@code pages}' free count is below {@code mark}, as
     * {@code kthread_create} fails when its allocations cannot be met.
     */
    public SimFaults threadStartFailsBelowFreePages(PageAllocator pages, long mark) {
        if (mark < 0) {
            throw new IllegalArgumentException("free-pages mark must be >= 0, got " + mark);
        }
        this.freePages = pages::freePages;
        this.threadStartFreePagesMark = mark;
        return this;
    }

    /**
     * Each allocation that may fail (not {@code NOFAIL}) from {@code pages} fails with probability
     * {@code p} before it takes any page.
     */
    public SimFaults allocationFailsWithProbability(PageAllocator pages, double p) {
        allocationProbability = probability("allocation failure probability", p);
        pages.setFaultInjector(allocationProbability == 0 ? null : new AllocationFaultInjector() {
            @Override
            public boolean shouldFail(int n, Gfp effective, Task task) {
                return random.nextDouble() < allocationProbability;
            }
        });
        return this;
    }

    /** Each timer fires up to {@code max} late, uniformly drawn. */
    public SimFaults timerLatency(Duration max) {
        if (max == null || max.isNegative()) {
            throw new IllegalArgumentException("timer latency must be >= 0, got " + max);
        }
        maxTimerLatency = max;
        return this;
    }

    private static double probability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1], got " + p);
        }
        return p;
    }


    /**
     * Why the start of a thread with {@code body} fails, or {@code null} if it does not; whether it
     * is a pool worker's start is the runtime's word ({@link Workqueues#startsPoolWorker}).
     */
    String threadStartFault(Runnable body) {
        return threadStartFault(Workqueues.startsPoolWorker(body));
    }

    /** Why a thread start fails, or {@code null} if it does not; {@code poolWorker} says whether it is a pool worker's. */
    String threadStartFault(boolean poolWorker) {
        if (threadStartAlways) {
            return "injected fault (thread starts always fail)";
        }
        if (workerStartsAllowed >= 0 && poolWorker && workerStarts++ >= workerStartsAllowed) {
            return workerStartsAllowed == 0 ? "injected fault (every worker creation fails)"
                    : "injected fault (only " + workerStartsAllowed + " worker creations allowed)";
        }
        if (threadStartsAllowed >= 0 && threadStarts++ >= threadStartsAllowed) {
            return "injected fault (only " + threadStartsAllowed + " thread starts allowed)";
        }
        if (threadStartProbability > 0 && random.nextDouble() < threadStartProbability) {
            return "injected fault (probability " + threadStartProbability + ")";
        }
        if (freePages != null && freePages.getAsLong() < threadStartFreePagesMark) {
            return "injected fault (" + freePages.getAsLong() + " free pages, below the mark " + threadStartFreePagesMark + ")";
        }
        return null;
    }

    /** The extra latency for one arming. */
    Duration timerLatency() {
        if (maxTimerLatency.isZero()) {
            return Duration.ZERO;
        }
        return Duration.ofNanos(random.nextLong(maxTimerLatency.toNanos() + 1));
    }
}
