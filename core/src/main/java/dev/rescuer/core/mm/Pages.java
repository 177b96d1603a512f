package dev.rescuer.core.mm;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A handle on pages allocated from a {@link PageAllocator}. Freeing goes through the handle, so the
 * allocator can tell a double free or a free of more than was allocated from a legitimate one and
 * reject it with a message naming the allocation.
 *
 * <p>{@link #free()} and {@link #free(int)} are strict. {@link #close()} frees whatever remains and
 * does nothing if all was freed already, for use in try-with-resources. Freeing never sleeps.
 */
public final class Pages implements AutoCloseable {

    private final PageAllocator allocator;
    private final long id;
    private final int count;
    private final Gfp gfp;
    private final String taskName;
    /** Pages not yet freed. Atomic: any task may free, and a free takes its pages by compare-and-set. */
    private final AtomicInteger remaining;

    Pages(PageAllocator allocator, long id, int count, Gfp gfp, String taskName) {
        this.allocator = allocator;
        this.id = id;
        this.count = count;
        this.gfp = gfp;
        this.taskName = taskName;
        this.remaining = new AtomicInteger(count);
    }

    /** How many pages were allocated. */
    public int count() {
        return count;
    }

    /** How many pages have not been freed yet. */
    public int remaining() {
        return remaining.get();
    }

    /** The context the allocation asked for. */
    public Gfp gfp() {
        return gfp;
    }

    /** Frees every remaining page. */
    public void free() {
        int r = remaining.getAndSet(0);
        if (r == 0) {
            throw new IllegalStateException("double free of " + this);
        }
        allocator.release(r);
    }

    /**
     * Frees {@code n} of the remaining pages.
     *
     * @throws IllegalArgumentException if {@code n} is not positive
     * @throws IllegalStateException if fewer than {@code n} pages remain (nothing is freed then)
     */
    public void free(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("cannot free " + n + " pages of " + this);
        }
        while (true) {
            int r = remaining.get();
            if (n > r) {
                throw new IllegalStateException(r == 0
                        ? "double free of " + this
                        : "freeing " + n + " pages of " + this + ", but only " + r + " remain");
            }
            if (remaining.compareAndSet(r, r - n)) {
                break;
            }
        }
        allocator.release(n);
    }

    /** Frees what remains, if anything. */
    @Override
    public void close() {
        int r = remaining.getAndSet(0);
        if (r > 0) {
            allocator.release(r);
        }
    }

    @Override
    public String toString() {
        return "allocation #" + id + " (" + count + " pages, " + gfp + ", by task " + taskName + ")";
    }
}
