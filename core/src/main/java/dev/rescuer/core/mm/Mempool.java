package dev.rescuer.core.mm;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.RawSpinLock;
import dev.rescuer.core.sync.WaitQueue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

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
 *   <li>{@code minNr} may be 0, as {@code mempool_create(0, ...)} may (a pool whose allocations may
 *       wait for a free but hold no reserve at rest; see {@link #free}).
 *   <li>{@link #free} refills the reserve first and then wakes <em>every</em> waiting allocation, as
 *       {@code mempool_free} does with {@code wake_up(&pool->wait)} (the waits in
 *       {@code mempool_alloc} are not exclusive); each re-tries, and those that find the reserve
 *       empty again go back to sleep. Only a full reserve gives the element back to the source.
 *   <li>It records which task allocated each element not yet freed ({@link #holders()}), for
 *       reports. Freeing an element it did not hand out (or one already freed), allocating from or
 *       destroying a destroyed pool, and destroying a pool whose elements are still out are errors.
 * </ul>
 * The forward-progress guarantee holds only if every allocated element is freed in bounded time
 * without needing another element from the same pool: the kernel's rule too. Elements are told apart
 * by identity: a source must not hand out one object again while it is out.
 *
 * <p><b>Locking and memory ordering.</b> The reserve and the element owners are guarded by a raw
 * spin lock ({@code pool->lock}); every read of them, including the waiters' condition, takes it, so
 * the guard's acquire and release order all of it. {@code destroyed} is volatile: it is written under
 * the guard and read without it on entry to every operation (a best-effort misuse check) and in the
 * waiters' condition. A free makes its element visible under the guard before it wakes the waiters,
 * and the waiters' condition takes the guard, so a woken waiter sees the element.
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
    /** The reserved elements ({@code pool->elements}); its size is {@code curr_nr}. Guarded by {@code guard}. */
    private final ArrayDeque<T> reserve;
    /** Each element handed out and not yet freed, with the task that allocated it. Guarded by {@code guard}. */
    private final IdentityHashMap<T, Task> out = new IdentityHashMap<>();
    /** The elements of {@link #out} their allocator has handed on ({@link #handOn}). Guarded by {@code guard}. */
    private final Set<T> handedOn = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Allocations waiting for a freed element. Its owner is this pool, for reports. */
    private final WaitQueue wait;
    /** Set once, under {@code guard}; read anywhere. */
    private volatile boolean destroyed;
    /**
     * The pool as an event for the validator: an allocation that may sleep waits on it and a free
     * signals it. Its class is the pool's name, so that two pools are two classes. Immutable.
     */
    private final Primitive event;

    private Mempool(Platform platform, String name, int minNr, Source<T> source, Duration recheck) {
        this.platform = platform;
        this.name = name;
        this.minNr = minNr;
        this.source = source;
        this.recheck = recheck;
        this.reserve = new ArrayDeque<>(Math.max(1, minNr));
        this.wait = new WaitQueue(platform, "mempool " + name, "mempool");
        this.wait.setOwner(this);
        String eventName = "mempool " + name;
        this.event = new AbstractPrimitive() {
            @Override public String name() { return eventName; }
            @Override public String kind() { return "mempool"; }
            @Override public String toString() { return eventName; }
        };
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
        if (minNr < 0) {
            throw new IllegalArgumentException("mempool " + name + ": minNr must be >= 0, got " + minNr);
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
        LockEvents ev = platform.lockEvents();
        if (ev != null && gfp.mayDirectReclaim()) {
            ev.waitOn(self, event); // mempool_alloc waits for a free whenever the reserve is empty
            if (holds(self)) {
                ev.waitOnNested(self, event);
            }
        }
        // The kernel ORs in __GFP_NOMEMALLOC, which overrides a caller's __GFP_MEMALLOC; here the two
        // cannot be combined, so the caller's MEMALLOC is dropped rather than rejected.
        Gfp full = gfp.without(Gfp.Modifier.NOFAIL, Gfp.Modifier.RETRY_MAYFAIL, Gfp.Modifier.MEMALLOC)
                .with(Gfp.Modifier.NOMEMALLOC, Gfp.Modifier.NORETRY, Gfp.Modifier.NOWARN);
        Gfp attempt = full.clear(Gfp.DIRECT_RECLAIM | Gfp.IO);
        while (true) {
            T e = source.allocate(attempt);
            if (e != null) {
                handOut(e, self);
                return e;
            }
            e = takeReserved(self);
            if (e != null) {
                return e;
            }
            if (!attempt.equals(full)) {
                attempt = full; // now allow reclaim, once, before waiting
                continue;
            }
            if (!gfp.mayDirectReclaim()) {
                return null;
            }
            wait.waitEventTimeout(() -> destroyed || reserved() > 0, recheck);
            checkAlive("allocate from");
        }
    }

    /**
     * Whether {@code task} allocated an element not yet freed nor handed on. For the validator only: a
     * scan of the owners.
     */
    private boolean holds(Task task) {
        guard.lock();
        try {
            for (Map.Entry<T, Task> e : out.entrySet()) {
                if (e.getValue() == task && !handedOn.contains(e.getKey())) {
                    return true;
                }
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /**
     * Records that {@code element}'s allocator has handed it to something that frees it without
     * needing this pool (a bio submitted to its device, whose completion frees it): the allocator no
     * longer holds it, for the validator's nested-wait check ({@link LockEvents#waitOnNested}). It
     * stays allocated until {@link #free}, and {@link #holders()} still counts it for its allocator.
     *
     * @throws IllegalStateException if the pool did not hand {@code element} out, or it was freed already
     */
    public void handOn(T element) {
        guard.lock();
        try {
            if (!out.containsKey(element)) {
                throw new IllegalStateException("mempool " + name + ": hand-on of an element it did not hand out, or that "
                        + "was freed already: " + element);
            }
            handedOn.add(element);
        } finally {
            guard.unlock();
        }
    }

    /** Records {@code e}, fresh from the source, as allocated by {@code owner}. */
    private void handOut(T e, Task owner) {
        guard.lock();
        try {
            recordOwnerLocked(e, owner);
        } finally {
            guard.unlock();
        }
    }

    private void recordOwnerLocked(T e, Task owner) {
        assert guard.isHeldByCurrentThread();
        if (out.putIfAbsent(e, owner) != null) {
            // Checked before anything else changed; the caller releases the guard in its finally.
            throw new IllegalStateException("mempool " + name + ": element " + e + " handed out twice; its source "
                    + "returned an object that is still allocated");
        }
    }

    /** Takes an element from the reserve for {@code owner}, or returns {@code null} if it is empty. */
    private T takeReserved(Task owner) {
        guard.lock();
        try {
            T e = reserve.peekLast();
            if (e != null) {
                recordOwnerLocked(e, owner);
                reserve.pollLast();
            }
            return e;
        } finally {
            guard.unlock();
        }
    }

    /**
     * Frees an element ({@code mempool_free}): into the reserve if it is short, waking every waiting
     * allocation, else back to the source. A pool created with {@code minNr} 0 keeps one freed element
     * while its reserve is empty, so that an allocation waiting on it is woken (the kernel's
     * "min_nr = 0 edge case"). Freeing {@code null} does nothing, as in the kernel.
     *
     * @throws IllegalStateException if the pool did not hand {@code element} out, or it was freed already
     */
    public void free(T element) {
        if (element == null) {
            return;
        }
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.signal(platform.currentTask(), event);
        }
        boolean refilled;
        guard.lock();
        try {
            handedOn.remove(element);
            if (out.remove(element) == null) {
                throw new IllegalStateException("mempool " + name + ": free of an element it did not hand out, or that "
                        + "was freed already: " + element);
            }
            refilled = (reserve.size() < minNr || minNr == 0 && reserve.isEmpty()) && !destroyed;
            if (refilled) {
                reserve.addLast(element);
            }
        } finally {
            guard.unlock();
        }
        if (refilled) {
            wait.wakeUp(); // every waiter: mempool_alloc's waits are not exclusive
        } else {
            source.free(element);
        }
    }

    /**
     * Gives the reserve back to the source ({@code mempool_destroy}).
     *
     * @throws IllegalStateException if elements are still allocated, or the pool is already destroyed
     */
    public void destroy() {
        checkAlive("destroy");
        ArrayDeque<T> all;
        guard.lock();
        try {
            if (!out.isEmpty()) {
                throw new IllegalStateException("mempool " + name + " destroyed with " + out.size() + " elements still allocated");
            }
            destroyed = true;
            all = new ArrayDeque<>(reserve);
            reserve.clear();
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
        guard.lock();
        try {
            return reserve.size();
        } finally {
            guard.unlock();
        }
    }

    /** Elements handed out and not yet freed. */
    public int outstanding() {
        guard.lock();
        try {
            return out.size();
        } finally {
            guard.unlock();
        }
    }

    /**
     * The tasks that allocated elements not yet freed, with how many each holds, in task id order. A
     * snapshot, for reports: an allocation waiting here waits for one of these tasks (or whoever they
     * handed their element to) to free one.
     */
    public Map<Task, Integer> holders() {
        Map<Task, Integer> counts = new TreeMap<>(Comparator.comparingLong(Task::id));
        guard.lock();
        try {
            for (Task t : out.values()) {
                counts.merge(t, 1, Integer::sum);
            }
        } finally {
            guard.unlock();
        }
        return Collections.unmodifiableMap(counts);
    }

    @Override
    public String toString() {
        int reserved;
        int allocated;
        guard.lock();
        try {
            reserved = reserve.size();
            allocated = out.size();
        } finally {
            guard.unlock();
        }
        return "Mempool[" + name + ": " + reserved + "/" + minNr + " reserved, " + allocated + " out]";
    }
}
