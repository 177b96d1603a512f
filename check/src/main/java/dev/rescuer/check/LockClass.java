package dev.rescuer.check;

/**
 * A node of the dependency graph: one lockdep class (all primitives of one role, such as every
 * snapshot's {@code _origins_lock}), at one subclass, or one event class (every
 * {@code page-writeback} completion).
 *
 * <p>Created once per key by {@link Validator} and never removed. {@link #exclusiveSeen()} is
 * volatile: any task may set it, and the cycle search reads it after the run. The validator caches
 * a class on each primitive of it ({@link dev.rescuer.core.platform.AbstractPrimitive#classCache()}),
 * tagged by {@link #validator}; every other field is final, so a task that finds the class there
 * sees it whole. {@link #recorded} (the edges recorded out of it) has its own memory-ordering
 * paragraph.
 */
public final class LockClass {

    /** The validator that created it: the tag that tells its cached classes from another's. */
    final Validator validator;
    /** The dependencies already recorded from this class, as the validator's edge keys. */
    final EdgeSet recorded = new EdgeSet();
    private final int id;
    private final String name;
    private final int subclass;
    private final String kind;
    /** Whether some task acquired this class exclusively: a writer exists. Set once, by any task. */
    private volatile boolean exclusiveSeen;

    LockClass(Validator validator, int id, String name, int subclass, String kind) {
        this.validator = validator;
        this.id = id;
        this.name = name;
        this.subclass = subclass;
        this.kind = kind;
    }

    /** A number unique within its validator, in order of first appearance. */
    public int id() {
        return id;
    }

    /** The primitive's class ({@link dev.rescuer.core.platform.Primitive#lockClass()}). */
    public String name() {
        return name;
    }

    /** The lockdep subclass; 0 unless the class was taken nested on purpose. */
    public int subclass() {
        return subclass;
    }

    /** The kind of the primitive that first showed this class ({@code "mutex"}, {@code "completion"}, ...). */
    public String kind() {
        return kind;
    }

    /** Whether this is an event class (waited on and signalled) rather than a lock. */
    public boolean isEvent() {
        return Validator.isEventKind(kind);
    }

    /** Whether some task has acquired this class exclusively (a rw-semaphore's writer, say). */
    public boolean exclusiveSeen() {
        return exclusiveSeen;
    }

    void markExclusive() {
        if (!exclusiveSeen) {
            exclusiveSeen = true;
        }
    }

    /** The class as lockdep prints it: {@code name} or {@code name/subclass}. */
    @Override
    public String toString() {
        return subclass == 0 ? name : name + "/" + subclass;
    }
}
