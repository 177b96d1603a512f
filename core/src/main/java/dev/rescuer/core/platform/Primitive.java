package dev.rescuer.core.platform;

/**
 * Something a task can hold or wait on: a lock, a completion, a wait queue, a memory pool, a task's exit.
 *
 * <p>Every primitive has an instance {@linkplain #name() name} and a {@linkplain #lockClass() class},
 * in lockdep's sense: all instances created at one place for one purpose (every snapshot's
 * {@code _origins_lock}, say) share a class, so that reports and the validator can speak of the class
 * rather than of one object. The {@linkplain #kind() kind} says what sort of primitive it is
 * ({@code "mutex"}, {@code "rwsem"}, {@code "completion"}, ...), for reports.
 */
public interface Primitive {

    /** The instance name, for example {@code "&s->lock"} or {@code "snap0/origins_lock"}. */
    String name();

    /** The lockdep-style class shared by all instances with the same role; defaults to the name. */
    default String lockClass() {
        return name();
    }

    /** What sort of primitive this is, for reports: {@code "mutex"}, {@code "semaphore"}, ... */
    String kind();

    /**
     * Whether waiting on this primitive is an idle sleep (an idle worker, a daemon waiting for
     * requests), which the hung-task detector does not report, like the kernel's {@code TASK_IDLE}.
     */
    default boolean isIdleWait() {
        return false;
    }

    /** One-line description for reports: {@code kind name [class]}. */
    default String describe() {
        String n = name();
        String c = lockClass();
        return n.equals(c) ? kind() + " " + n : kind() + " " + n + " [" + c + "]";
    }
}
