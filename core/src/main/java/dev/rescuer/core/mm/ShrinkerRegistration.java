package dev.rescuer.core.mm;

/**
 * A {@link Shrinker} registered with a {@link PageAllocator}. Closing it unregisters the shrinker and
 * waits until no reclaim pass is still running it ({@code unregister_shrinker}); after that the
 * shrinker is never called again. Closing twice is harmless. Closing from inside a reclaim pass of
 * the same allocator (a shrinker unregistering itself) would wait for itself, and throws.
 */
public final class ShrinkerRegistration implements AutoCloseable {

    private final PageAllocator allocator;
    private final Shrinker shrinker;
    /** Set once by the first close. Atomic, so that only one close unregisters. */
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    ShrinkerRegistration(PageAllocator allocator, Shrinker shrinker) {
        this.allocator = allocator;
        this.shrinker = shrinker;
    }

    /** The registered shrinker. */
    public Shrinker shrinker() {
        return shrinker;
    }

    @Override
    public void close() {
        if (!closed.get()) {
            allocator.unregister(this);
            closed.set(true);
        }
    }
}
