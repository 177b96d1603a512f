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

    /**
     * Whether a platform may poll briefly for the wake-up before a waiter on this primitive sleeps
     * ({@link RealPlatform}'s spin before the park; a simulator never polls). True by default: a
     * wake-up that comes within microseconds (a completion signalled, an idle worker kicked) then
     * costs neither side a futex. A sleeping lock that lets a running task take it past its woken
     * waiter answers false, so its waiters sleep at once and a running owner keeps the lock rather
     * than trading it with a waiter woken within microseconds of every release; {@code Mutex} does,
     * and spins in its acquisition instead, on a running owner only, as the kernel's
     * {@code mutex_optimistic_spin}. A lock that hands itself to its woken waiter ({@code RwSemaphore}
     * today) keeps the poll: until that waiter runs, nobody can use the lock.
     */
    default boolean pollsBeforeSleep() {
        return true;
    }

    /** One-line description for reports: {@code kind name [class]}. */
    default String describe() {
        String n = name();
        String c = lockClass();
        return n.equals(c) ? kind() + " " + n : kind() + " " + n + " [" + c + "]";
    }
}
