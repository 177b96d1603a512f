package dev.rescuer.core.mm;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A test cache of one-page objects that gives its pages back under reclaim, and records what reclaim
 * asked of it. It can model a cache whose objects need I/O to be freed (dirty pages that must be
 * written back first) or the filesystem (inodes): in a context that forbids that, it returns
 * {@link Shrinker#STOP}, as a kernel shrinker must. Thread-safe.
 */
final class PageCache implements Shrinker {

    /** What freeing an object of this cache requires of the reclaim context. */
    enum Needs { NOTHING, IO, FS }

    private final String name;
    private final Needs needs;
    final ConcurrentLinkedDeque<Pages> held = new ConcurrentLinkedDeque<>();
    final List<Gfp> countGfps = new CopyOnWriteArrayList<>();
    final List<Gfp> scanGfps = new CopyOnWriteArrayList<>();
    final AtomicInteger counts = new AtomicInteger();
    final AtomicInteger scans = new AtomicInteger();
    final AtomicInteger stops = new AtomicInteger();
    /** Runs at the start of every scan, in the reclaiming task. */
    volatile Consumer<ShrinkControl> onScan = sc -> { };

    PageCache(String name, Needs needs) {
        this.name = name;
        this.needs = needs;
    }

    PageCache(String name) {
        this(name, Needs.NOTHING);
    }

    /** Allocates {@code pages} one-page objects into the cache. */
    PageCache fill(PageAllocator allocator, int pages) {
        for (int i = 0; i < pages; i++) {
            held.add(allocator.allocate(1, Gfp.KERNEL));
        }
        return this;
    }

    /** Adds an allocation the caller made to the cache. */
    void adopt(Pages p) {
        held.add(p);
    }

    int size() {
        int n = 0;
        for (Pages p : held) {
            n += p.remaining();
        }
        return n;
    }

    /** Frees everything still cached. */
    void drop() {
        for (Pages p; (p = held.poll()) != null; ) {
            p.close();
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long count(ShrinkControl control) {
        counts.incrementAndGet();
        countGfps.add(control.gfp());
        return size();
    }

    @Override
    public long scan(ShrinkControl control) {
        scans.incrementAndGet();
        scanGfps.add(control.gfp());
        onScan.accept(control);
        if (needs == Needs.IO && !control.gfp().mayIo() || needs == Needs.FS && !control.gfp().mayFs()) {
            stops.incrementAndGet();
            return STOP;
        }
        long freed = 0;
        while (freed < control.nrToScan()) {
            Pages p = held.poll();
            if (p == null) {
                break;
            }
            // Partial frees of a multi-page object: give back one page, keep the rest cached.
            if (p.remaining() > 1) {
                p.free(1);
                held.addFirst(p);
            } else {
                p.free();
            }
            freed++;
        }
        return freed;
    }

    @Override
    public String toString() {
        return "PageCache[" + name + ", " + size() + " pages]";
    }
}
