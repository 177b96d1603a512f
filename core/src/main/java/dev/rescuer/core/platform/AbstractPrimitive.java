package dev.rescuer.core.platform;

/**
 * A {@link Primitive} with a slot where the installed validator caches the primitive's class, as
 * the kernel's {@code struct lockdep_map} keeps {@code class_cache} so that {@code lock_acquire}
 * finds the class with one load instead of hashing the key ({@code look_up_lock_class} in
 * {@code kernel/locking/lockdep.c}). Core's own primitives (the sleeping locks and events, the spin
 * lock, work items, workqueues, rescuer domains, {@link LockEvents#FS_RECLAIM}, a task's exit and a
 * mempool's event) extend it; any other {@code Primitive} works without the slot, only slower to
 * look up.
 *
 * <p>Core never reads or interprets the slot: it belongs to whichever {@link LockEvents} listener
 * wrote it last. A listener must tag what it stores with its own identity and check that tag on
 * every read, so that a listener installed after another (a test's second validator, the same
 * primitive watched by two platforms' validators in turn) never takes the other's class for its own;
 * the cached value must be one the listener could equally have recomputed from the primitive's
 * {@link #lockClass()}, so that losing it, or having it overwritten, changes nothing but speed. For
 * that, a subclass's {@link #lockClass()} and {@link #kind()} must not change over the instance's life.
 *
 * <p><b>Memory ordering.</b> The slot is volatile: a listener's write (by any task, the first time
 * that listener looks the primitive up) publishes the object it stores, and every later read by any
 * task sees it whole. Two tasks that miss at once both compute and both write; a listener that
 * stores the same canonical object for every instance of a class makes that race harmless (the
 * second write stores what the first did). With no listener installed nothing touches the slot.
 */
public abstract class AbstractPrimitive implements Primitive {

    /** The listener's cached class of this primitive, or {@code null}. Written and read by any task; see the class comment. */
    private volatile Object classCache;

    /** A primitive whose class cache is empty. */
    protected AbstractPrimitive() {
    }

    /**
     * What the installed listener cached here with {@link #setClassCache}, or {@code null}: possibly
     * another listener's value, which the reader must recognise by its tag and ignore.
     */
    public final Object classCache() {
        return classCache;
    }

    /** Caches {@code value} (a listener's tagged class of this primitive), replacing what was there. */
    public final void setClassCache(Object value) {
        classCache = value;
    }
}
