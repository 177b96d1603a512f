package dev.rescuer.core.platform;

/**
 * A task tried to sleep, or to call something that may sleep, while in atomic context: holding a
 * {@code SpinLock}, running a BH work item or a timer callback.
 *
 * <p>The kernel's equivalent is the "BUG: sleeping function called from invalid context" splat from
 * {@code might_sleep()}. It is reported when the call is made, whether or not it would actually have
 * had to wait, so the bug shows on the first run rather than only under contention. The primitive's
 * state is left untouched.
 */
public class AtomicContextException extends IllegalStateException {

    private final transient Primitive primitive;

    public AtomicContextException(Task task, Primitive primitive, String operation) {
        super("BUG: sleeping function called from invalid context: " + operation + " on "
                + primitive.describe() + " by task " + task.name() + " (atomic depth "
                + task.atomicDepth() + task.describeAtomicHolders() + ")");
        this.primitive = primitive;
    }

    /** The primitive whose blocking operation was called. */
    public Primitive primitive() {
        return primitive;
    }
}
