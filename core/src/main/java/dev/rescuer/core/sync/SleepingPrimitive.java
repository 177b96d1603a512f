package dev.rescuer.core.sync;

import dev.rescuer.core.platform.AbstractPrimitive;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.util.ArrayDeque;

/**
 * What the sleeping primitives share: identity (name and class), the platform, a raw guard over a
 * FIFO of {@link Waiter}s, and the grant-and-wake protocol.
 *
 * <p>Protocol. A task that must wait enqueues a waiter under the guard and sleeps in
 * {@link Platform#await} until {@code waiter.granted}. The releasing task, under the guard, dequeues
 * the waiters its rule lets in (the first, for a semaphore or completion; up to 256 readers from
 * anywhere in the queue, for the rw-semaphore's readers' phase), updates the primitive's state on
 * their behalf, sets {@code granted} and wakes them. Ownership thus passes with no window in which a
 * third task could take it. {@link Mutex} and the rw-semaphore's writers follow the kernel instead:
 * a release wakes the first waiter, which takes the lock itself (a running task may take it first),
 * and only a first waiter that asked for a hand-over is granted this way.
 * A timed wait that expires, or an interruptible one that is interrupted, removes its waiter under
 * the guard, unless it was granted meanwhile, in which case the grant stands and the wait succeeds.
 *
 * <p><b>Memory ordering.</b> The waiter queue and each subclass's queue-side state are plain fields
 * read and written only with {@link #guard} held (asserted in the {@code ...Locked} helpers); the
 * guard's compare-and-set acquire and release store order them. {@link Mutex} and
 * {@link RwSemaphore} keep their lock state in an atomic word instead, whose own memory-ordering
 * paragraph says what pairs with what. The one field crossing tasks without the
 * guard is the waiter's volatile {@code granted}: the releaser writes the new owner state and then
 * {@code granted} under the guard before {@link Platform#wake}; the woken task reads {@code granted}
 * in its wait condition, and that volatile pair makes the state written on its behalf visible. The
 * platform's wake/park pair supplies the rest: a wake issued before the park is not lost.
 */
abstract class SleepingPrimitive extends AbstractPrimitive {

    final Platform platform;
    private final String name;
    private final String lockClass;
    /** The primitive's {@code wait_lock}: guards {@link #waiters} and the subclass's state. */
    final RawSpinLock guard = new RawSpinLock();
    /** Queued waiters, oldest first. Guarded by {@link #guard}. */
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    SleepingPrimitive(Platform platform, String name, String lockClass) {
        if (platform == null) {
            throw new NullPointerException("platform");
        }
        this.platform = platform;
        this.name = requireName(name, "name");
        this.lockClass = requireName(lockClass, "lockClass");
    }

    static String requireName(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("a primitive's " + what + " must be non-blank, got " + (s == null ? "null" : "\"" + s + "\""));
        }
        return s;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String lockClass() {
        return lockClass;
    }

    @Override
    public String toString() {
        return describe();
    }

    /** Enqueues a waiter for {@code self}. Call with the guard held. */
    final Waiter enqueueLocked(Task self, int mode) {
        assert guard.isHeldByCurrentThread();
        Waiter w = new Waiter(self, mode);
        waiters.addLast(w);
        return w;
    }

    /** Grants {@code w} (already dequeued) and wakes its task. Call with the guard held. */
    final void grantLocked(Waiter w) {
        assert guard.isHeldByCurrentThread();
        w.granted = true;
        platform.wake(w.task);
    }

    /** {@link #awaitGrant(Waiter, long, boolean)}: the waiter was granted. */
    static final int GRANTED = 0;
    /** {@link #awaitGrant(Waiter, long, boolean)}: the deadline passed first; the waiter is withdrawn. */
    static final int TIMED_OUT = 1;
    /** {@link #awaitGrant(Waiter, long, boolean)}: the task was interrupted first; the waiter is withdrawn. */
    static final int INTERRUPTED = 2;

    /**
     * Sleeps until {@code w} is granted or the deadline passes. On timeout the waiter is withdrawn,
     * unless it was granted in the meantime.
     *
     * @return whether the waiter was granted
     */
    final boolean awaitGrant(Waiter w, long deadlineNanos) {
        return awaitGrant(w, deadlineNanos, false) == GRANTED;
    }

    /**
     * Sleeps until {@code w} is granted, the deadline passes or (if {@code interruptible}) the task is
     * interrupted. A waiter that gives up is withdrawn under the guard, and {@link #withdrawnLocked}
     * lets in whoever it was holding back; if it was granted in the meantime the grant stands, and an
     * interrupt that came too late is left pending.
     *
     * @return {@link #GRANTED}, {@link #TIMED_OUT} or {@link #INTERRUPTED}
     */
    final int awaitGrant(Waiter w, long deadlineNanos, boolean interruptible) {
        boolean interrupted = false;
        try {
            boolean granted = interruptible
                    ? platform.awaitInterruptible(this, w::isGranted, deadlineNanos)
                    : platform.await(this, w::isGranted, deadlineNanos);
            if (granted) {
                return GRANTED;
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        guard.lock();
        try {
            if (w.granted) {
                if (interrupted) {
                    platform.interrupt(w.task); // too late to matter here: keep it for the next wait
                }
                return GRANTED;
            }
            boolean first = waiters.peekFirst() == w;
            waiters.remove(w);
            withdrawnLocked(first);
            return interrupted ? INTERRUPTED : TIMED_OUT;
        } finally {
            guard.unlock();
        }
    }

    /**
     * A waiter gave up and was removed from the queue ({@code wasFirst}: it was the queue's head); a
     * primitive whose grant rule depends on who is queued first lets the next waiters in here. Call
     * with the guard held.
     */
    void withdrawnLocked(boolean wasFirst) {
    }

    /**
     * The start of a lock acquisition that may sleep ({@code op} for messages): the atomic check, the
     * scheduling point, and, for an untimed one, lockdep's {@code lock_acquire} before the attempt.
     *
     * @return the validator's listener, or {@code null}
     */
    final LockEvents beginAcquire(Task self, String op, long deadline, int mode, int subclass) {
        self.checkMaySleep(this, op);
        platform.preemptionPoint();
        LockEvents ev = platform.lockEvents();
        if (ev != null && deadline == Platform.NO_DEADLINE) {
            ev.acquire(self, this, mode, subclass, false);
        }
        return ev;
    }

    /**
     * After a sleep for the lock: {@code true} when granted. A waiter that gave up tells the validator
     * that the untimed acquisition {@link #beginAcquire} reported is released (the kernel's
     * {@code mutex_release}/{@code rwsem_release} on its error paths), and an interrupted one throws.
     */
    final boolean settle(Task self, int outcome, LockEvents ev, long deadline, String op) throws InterruptedException {
        if (outcome == GRANTED) {
            return true;
        }
        if (ev != null && deadline == Platform.NO_DEADLINE) {
            ev.release(self, this);
        }
        if (outcome == INTERRUPTED) {
            throw interruptedWhile(op, self);
        }
        return false;
    }

    /**
     * A misuse found after {@link #beginAcquire} (a recursive acquisition that would deadlock): the
     * validator heard of the untimed attempt, which will not happen, so it is told the acquisition is
     * released, as {@link #settle} does for a waiter that gave up; the caller throws what this returns.
     */
    final IllegalStateException refusedAfterBegin(Task self, LockEvents ev, long deadline, String message) {
        if (ev != null && deadline == Platform.NO_DEADLINE) {
            ev.release(self, this);
        }
        return new IllegalStateException(message);
    }

    /** The end of a successful acquisition: a timed one is reported now, as a try-lock (it could not hang). */
    final void endAcquire(Task self, LockEvents ev, long deadline, int mode) {
        if (ev != null && deadline != Platform.NO_DEADLINE) {
            ev.acquire(self, this, mode, 0, true);
        }
    }

    /** An acquisition that may throw {@link InterruptedException}. */
    interface Acquisition {
        boolean run() throws InterruptedException;
    }

    /** Runs an uninterruptible acquisition from a method that declares no exception. */
    static boolean uninterruptible(Acquisition a) {
        try {
            return a.run();
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible acquisition was interrupted", e);
        }
    }

    /** The exception an interruptible acquisition throws. */
    final InterruptedException interruptedWhile(String op, Task self) {
        return new InterruptedException(op + " of " + describe() + " by task " + self + " was interrupted");
    }

    /**
     * Tells the validator, if one is installed, that {@code self} enters an untimed wait on this
     * event. Idle waits (an idle worker, a daemon) are not dependencies and are not reported.
     */
    final void reportWait(Task self) {
        LockEvents ev = platform.lockEvents();
        if (ev != null && !isIdleWait()) {
            ev.waitOn(self, this);
        }
    }

    /** Tells the validator, if one is installed, that the current task signals this event. */
    final void reportSignal() {
        LockEvents ev = platform.lockEvents();
        if (ev != null && !isIdleWait()) {
            ev.signal(platform.currentTask(), this);
        }
    }

    /** Tells the validator, if one is installed, that the current task requests this event (see {@link LockEvents#requestEvent}). */
    final void reportRequest() {
        LockEvents ev = platform.lockEvents();
        if (ev != null && !isIdleWait()) {
            ev.requestEvent(platform.currentTask(), this);
        }
    }

    /** The tasks queued on this primitive, oldest first. A snapshot. */
    final java.util.List<Task> queuedTasks(int mode) {
        guard.lock();
        try {
            java.util.List<Task> out = new java.util.ArrayList<>(waiters.size());
            for (Waiter w : waiters) {
                if (mode < 0 || w.mode == mode) {
                    out.add(w.task);
                }
            }
            return out;
        } finally {
            guard.unlock();
        }
    }
}
