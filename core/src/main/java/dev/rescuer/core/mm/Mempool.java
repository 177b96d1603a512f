package dev.rescuer.core.mm;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RawSpinLock;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pool with a reserve of {@code minNr} pre-allocated elements that guarantees forward progress
 * to a path that must not fail, like the kernel's {@code mempool_t}.
 *
 * <p>Guarantees, following {@code mm/mempool.c}:
 * <ul>
 *   <li>{@link #allocate} first tries the underlying source <em>without</em> direct reclaim or I/O
 *       (so that a pool user in the I/O path does not recurse into reclaim), then takes a reserved
 *       element, then tries the source once more with the caller's full context (one reclaim pass,
 *       {@code NORETRY}).
 *   <li>In a context that may sleep, an allocation <b>never fails</b>: if all of the above fail it
 *       waits until an element is freed back into the reserve, and starts over. The wait is bounded
 *       by a configurable re-check interval (the kernel's 5 s), after which it retries the source.
 *   <li>In a context that may not sleep it returns {@code null} instead of waiting.
 *   <li>{@link #free} refills the reserve first, waking one waiter; only a full reserve gives the
 *       element back to the source.
 *   <li>It counts elements handed out; freeing more than were allocated, allocating from or
 *       destroying a destroyed pool, and destroying a pool whose elements are still out are errors.
 * </ul>
 * The forward-progress guarantee holds only if every allocated element is freed in bounded time
 * without needing another element from the same pool: the kernel's rule too.
 *
 * @param <T> the element type
 */
public final class Mempool<T> {

    /** Where a pool's elements come from and go back to. */
    public interface Source<T> {
        /** Allocates an element in context {@code gfp}, or returns {@code null}. */
        T allocate(Gfp gfp);

        /** Gives an element back. Must not sleep. */
        void free(T element);
    }

    private final Platform platform;
    private final String name;
    private final int minNr;
    private final Source<T> source;
    private final Duration recheck;
    private final RawSpinLock guard = new RawSpinLock();
    private final ArrayDeque<T> reserve; // guarded by guard
    private volatile int reserved;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final WaitQueue wait;
    private volatile boolean destroyed;

    private Mempool(Platform platform, String name, int minNr, Source<T> source, Duration recheck) {
        this.platform = platform;
        this.name = name;
        this.minNr = minNr;
        this.source = source;
        this.recheck = recheck;
        this.reserve = new ArrayDeque<>(Math.max(1, minNr));
        this.wait = new WaitQueue(platform, "mempool " + name, "mempool");
    }

    /**
     * Creates a pool and fills its reserve with {@code minNr} elements allocated with {@code GFP_KERNEL}
     * ({@code mempool_create}).
     *
     * @throws PageAllocationException if the reserve cannot be filled; what was allocated is given back
     */
    public static <T> Mempool<T> create(Platform platform, String name, int minNr, Source<T> source) {
        return create(platform, name, minNr, source, Duration.ofSeconds(5));
    }

    /**
     * Like {@link #create(Platform, String, int, Source)}, with the interval after which a waiting
     * allocation re-tries the source even if nothing was freed.
     */
    public static <T> Mempool<T> create(Platform platform, String name, int minNr, Source<T> source, Duration recheck) {
        if (platform == null || source == null || recheck == null) {
            throw new NullPointerException(platform == null ? "platform" : source == null ? "source" : "recheck");
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a mempool needs a non-blank name");
        }
        if (minNr < 1) {
            throw new IllegalArgumentException("mempool " + name + ": minNr must be >= 1, got " + minNr);
        }
        if (recheck.isNegative() || recheck.isZero()) {
            throw new IllegalArgumentException("mempool " + name + ": recheck interval must be positive, got " + recheck);
        }
        Mempool<T> pool = new Mempool<>(platform, name, minNr, source, recheck);
        boolean filled = false;
        try {
            for (int i = 0; i < minNr; i++) {
                T e = source.allocate(Gfp.KERNEL);
                if (e == null) {
                    throw new PageAllocationException("mempool " + name + ": could only reserve " + i + " of " + minNr + " elements");
                }
                pool.reserve.addLast(e);
            }
            filled = true;
        } finally {
            if (!filled) { // the source returned null or threw: give back what was reserved
                for (T r : pool.reserve) {
                    source.free(r);
                }
            }
        }
        pool.reserved = minNr;
        return pool;
    }

    /**
     * A pool whose elements are {@code pagesPerElement} pages from {@code allocator}.
     */
    public static Mempool<Pages> ofPages(PageAllocator allocator, String name, int minNr, int pagesPerElement) {
        if (pagesPerElement < 1) {
            throw new IllegalArgumentException("mempool " + name + ": pagesPerElement must be >= 1, got " + pagesPerElement);
        }
        return create(allocator.platform(), name, minNr, new Source<>() {
            @Override
            public Pages allocate(Gfp gfp) {
                return allocator.tryAllocate(pagesPerElement, gfp);
            }

            @Override
            public void free(Pages element) {
                element.free();
            }
        });
    }

    /**
     * Allocates an element ({@code mempool_alloc}). Never returns {@code null} when {@code gfp} may
     * sleep; see the class comment for the order in which it looks.
     *
     * @return an element, or {@code null} only if {@code gfp} may not sleep and nothing was available
     */
    public T allocate(Gfp gfp) {
        if (gfp == null) {
            throw new NullPointerException("gfp");
        }
        checkAlive("allocate from");
        Task self = platform.currentTask();
        if (gfp.mayDirectReclaim()) {
            self.checkMaySleep(wait, "mempool_alloc");
        }
        platform.preemptionPoint();
        // The kernel ORs in __GFP_NOMEMALLOC, which overrides a caller's __GFP_MEMALLOC; here the two
        // cannot be combined, so the caller's MEMALLOC is dropped rather than rejected.
        Gfp full = gfp.without(Gfp.Modifier.NOFAIL, Gfp.Modifier.RETRY_MAYFAIL, Gfp.Modifier.MEMALLOC)
                .with(Gfp.Modifier.NOMEMALLOC, Gfp.Modifier.NORETRY, Gfp.Modifier.NOWARN);
        Gfp attempt = full.clear(Gfp.DIRECT_RECLAIM | Gfp.IO);
        while (true) {
            T e = source.allocate(attempt);
            if (e != null) {
                outstanding.incrementAndGet();
                return e;
            }
            e = takeReserved();
            if (e != null) {
                outstanding.incrementAndGet();
                return e;
            }
            if (!attempt.equals(full)) {
                attempt = full; // now allow reclaim, once, before waiting
                continue;
            }
            if (!gfp.mayDirectReclaim()) {
                return null;
            }
            wait.waitEventTimeout(() -> reserved > 0 || destroyed, recheck);
            checkAlive("allocate from");
        }
    }

    private T takeReserved() {
        guard.lock();
        try {
            T e = reserve.pollLast();
            if (e != null) {
                reserved--;
            }
            return e;
        } finally {
            guard.unlock();
        }
    }

    /** Frees an element: into the reserve if it is short, else back to the source ({@code mempool_free}). */
    public void free(T element) {
        if (element == null) {
            throw new NullPointerException("element");
        }
        if (outstanding.getAndDecrement() <= 0) {
            outstanding.incrementAndGet();
            throw new IllegalStateException("mempool " + name + ": free of more elements than were allocated");
        }
        if (reserved < minNr && refill(element)) {
            wait.wakeUp();
            return;
        }
        source.free(element);
    }

    /** Puts {@code element} into the reserve if it is short; returns whether it did. */
    private boolean refill(T element) {
        guard.lock();
        try {
            if (reserve.size() < minNr && !destroyed) {
                reserve.addLast(element);
                reserved++;
                return true;
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /**
     * Gives the reserve back to the source ({@code mempool_destroy}).
     *
     * @throws IllegalStateException if elements are still allocated, or the pool is already destroyed
     */
    public void destroy() {
        checkAlive("destroy");
        int out = outstanding.get();
        if (out != 0) {
            throw new IllegalStateException("mempool " + name + " destroyed with " + out + " elements still allocated");
        }
        guard.lock();
        ArrayDeque<T> all;
        try {
            destroyed = true;
            all = new ArrayDeque<>(reserve);
            reserve.clear();
            reserved = 0;
        } finally {
            guard.unlock();
        }
        for (T e : all) {
            source.free(e);
        }
        wait.wakeUpAll();
    }

    private void checkAlive(String what) {
        if (destroyed) {
            throw new IllegalStateException("cannot " + what + " mempool " + name + ": it was destroyed");
        }
    }

    /** The pool's name. */
    public String name() {
        return name;
    }

    /** The guaranteed reserve size. */
    public int minNr() {
        return minNr;
    }

    /** Elements in the reserve now ({@code curr_nr}). */
    public int reserved() {
        return reserved;
    }

    /** Elements handed out and not yet freed. */
    public int outstanding() {
        return outstanding.get();
    }

    @Override
    public String toString() {
        return "Mempool[" + name + ": " + reserved + "/" + minNr + " reserved, " + outstanding.get() + " out]";
    }
}
