package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A sleeping reader/writer lock with the kernel's <b>writer preference</b>, like {@code struct rw_semaphore}.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Either one writer or any number of readers hold it.
 *   <li><b>Once a task is queued, new readers queue behind it while the lock is held, also while it
 *       is only read-held.</b> Readers that hold it keep it; a queued writer gets it when the last of
 *       them leaves. This prevents writer starvation, and it is exactly the property behind the 2019
 *       dm-snapshot deadlock ({@code _origins_lock}): a reader that must re-take the lock to let
 *       another reader finish waits behind the queued writer, which waits for that other reader. A
 *       reader that finds the lock <em>free</em> (released, the woken writer not yet in) may take it
 *       past the queue unless {@code HANDOFF} is set (the kernel's reader optimistic lock stealing),
 *       letting in the readers at the head of the queue with it.
 *   <li>Readers are let in as {@code rwsem_mark_wake} in {@code kernel/locking/rwsem.c} does, which is
 *       <em>phase-fair</em>: when the write lock or the last read lock is released and a reader is
 *       first in line, the releaser grants that reader a read hold together with every other queued
 *       reader, also those queued behind writers, up to 256 ({@code MAX_READERS_WAKEUP}) in one
 *       wake-up; the writers keep their places. {@link #downgradeWrite} lets queued readers in the
 *       same way ({@code RWSEM_WAKE_READ_OWNED}), never a writer.
 *   <li>Writers take the lock themselves, as in the kernel: a release with a writer first in line
 *       <em>wakes</em> it ({@code rwsem_mark_wake} with {@code RWSEM_WAKE_ANY}), and the woken writer
 *       retries ({@code rwsem_try_write_lock}), sleeping again if it lost. Meanwhile a writer that is
 *       running may take the freed lock past the queue (the kernel's writer lock stealing,
 *       {@code rwsem_try_write_lock_unqueued}). No waiter starves: the first waiter that has waited
 *       longer than {@link #RWSEM_WAIT_TIMEOUT_NANOS} ({@code RWSEM_WAIT_TIMEOUT}, 4 ms of
 *       {@link Platform#nanoTime()}, virtual time on a simulator) and finds the lock held sets
 *       {@code HANDOFF} ({@code RWSEM_FLAG_HANDOFF}; a release that finds the lock stolen before it
 *       could wake that waiter sets it on the waiter's behalf): from then on nobody else may take
 *       the lock, and the next release hands it to that waiter (a writer gets the write hold; for a
 *       reader, the readers' phase is granted as above).
 *   <li>Misuse is reported: releasing a mode the caller does not hold, taking it for write while
 *       holding it at all, for read while holding it for write, or for read again while a writer is
 *       queued ahead of the caller's new request (each would deadlock).
 * </ul>
 * Blocking calls from atomic context throw {@link dev.rescuer.core.platform.AtomicContextException}.
 *
 * <p><b>Differences from the kernel.</b> There is no optimistic spinning: a writer that finds the
 * lock held tries once to take it (free and no {@code HANDOFF}) and queues, and a first waiter that
 * set {@code HANDOFF} sleeps until the hand-over instead of spinning on the owner
 * ({@code rwsem_spin_on_owner}), and a queued waiter sleeps at once: it declines the platform's
 * poll before the park ({@link #pollsBeforeSleep()}), as {@link Mutex} does. A reader's steal is
 * tried under the guard, after the fast path failed, where the kernel's reader has already added
 * its bias to the count and decides from the word without {@code wait_lock}; the outcome is the
 * same (the kernel also counts readers still on their way to the queue as holders, so it steals a
 * little less often). A release with a writer
 * first in line and {@code HANDOFF} set hands the lock to it under the guard
 * ({@code rwsem_try_write_lock}'s hand-over path done by the releaser), so the waiter need not
 * compete at all. A release that finds the lock stolen before it could wake the writer first in line
 * does not wake it (the kernel does, and the writer sets {@code HANDOFF} itself if it has waited too
 * long); it sets {@code HANDOFF} for that writer instead. And a {@link #WAKING} bit, which the
 * kernel's rwsem does not have, lets a release wake at most one writer per park cycle: while the
 * woken writer has not yet retried, releases only free the word, as {@link Mutex}'s do (the kernel
 * takes {@code wait_lock} and wakes the first writer on every release that finds
 * {@code RWSEM_FLAG_WAITERS}). {@link #HANDOFF} belongs to the first waiter: only it sets the bit
 * (or a release sets it for it), which goes when it leaves the queue; in the kernel any waiter past
 * its timeout may set it, it binds others only when the first waiter set it ({@code handoff_set}),
 * and a bit left by a waiter that gave up is inherited by the next first waiter
 * ({@code rwsem_del_waiter} clears it only with the queue empty).
 *
 * <p><b>Implementation.</b> One word, {@code count}, packs the state as the kernel's
 * {@code sem->count} does: {@link #WRITER_LOCKED}, {@link #HAS_WAITERS} (the queue is not empty),
 * {@link #HANDOFF}, {@link #WAKING} and the number of read holds in units of {@link #READER_BIAS}. The
 * fast paths touch only the word: a read acquisition is one compare-and-set adding a reader while
 * none of the flags is set (so any queued waiter stops newcomers); a read release is one atomic add;
 * a write acquisition and release are compare-and-sets between 0 and {@link #WRITER_LOCKED}. No guard
 * is taken and nothing is allocated. A reader's slow path, under the guard, tries the fast path
 * again and then to steal a lock nobody holds (a compare-and-set adding a read hold to a word with
 * no holder and no {@link #HANDOFF}) before it queues. A writer's slow path first tries to steal
 * the lock (a compare-and-set setting {@link #WRITER_LOCKED} on a word with no holder and no
 * {@link #HANDOFF}), then queues under the raw guard and sleeps in {@link Platform#await} with a condition that retries
 * the lock under the guard. Queueing, {@code rwsem_mark_wake} and the flags happen under the guard.
 * The write holder is kept beside the word in {@code writer}, set by whoever takes or grants the
 * write hold right after the word says so and cleared by the holder before it lets go.
 *
 * <p><b>Memory ordering.</b> {@code count} is the lock word: a successful compare-and-set or add
 * that takes a hold is the acquire and the atomic operation that gives it back is the release, so a
 * writer's critical section happens-before the next holder's. Locking legend of the word's parts:
 * {@link #WRITER_LOCKED} is set by a compare-and-set from a word without holders (by anyone, unless
 * {@link #HANDOFF} is set: then only under the guard for the first waiter) and cleared by the
 * holder; read holds are added by the read fast path (only while no flag is set), by a reader's
 * steal under the guard (only to a word without holders or {@link #HANDOFF}) or under the guard by
 * {@code rwsem_mark_wake}'s grant, and taken away by their holders; {@link #HAS_WAITERS},
 * {@link #HANDOFF} and {@link #WAKING} change only under the guard. Every change is an atomic
 * read-modify-write of the one word, so all are totally ordered. No wake-up is lost: a writer sets
 * {@link #HAS_WAITERS} (enqueueing) before its first retry, so a release ordered before that retry
 * left the lock free for it, and one ordered after sees the flag; such a release takes the guard and
 * wakes the first waiter unless {@link #WAKING} says a woken writer has not yet retried. That writer
 * clears {@link #WAKING} in the same compare-and-set as its retry, under the guard, so a release
 * that saw the bit came before the retry (and left the lock free for it, or a barger took it, and the
 * barger's release comes after the clear and wakes), and a release that comes after the retry sees
 * the bit clear and wakes. A reader that queues re-reads the word afterwards
 * ({@code rwsem_cond_wake_waiter}) and lets itself in when no writer holds it. A grant (readers, or a
 * hand-over to a writer) adds the holds to the word, all of a batch's in one compare-and-set that
 * fails if a writer stole the lock (so a granted reader that leaves at once can never let a writer
 * in beside the rest of its batch), then sets {@code writer} and the waiter's volatile
 * {@code granted} under the guard before waking the task; the woken task reads {@code granted} in
 * its wait condition, so that volatile pair publishes the state written on its behalf. The waking
 * role's {@code Waiter.woken} is set before the bit within one guard hold and read by the woken task
 * only under the guard. {@code writer} is written with release stores and read with an acquire by
 * reports; it is exact for the calling task (the holder clears it before its release, so a stale
 * value is never the caller) and advisory for others. The queue is guarded by the guard.
 */
public final class RwSemaphore extends SleepingPrimitive {

    /** The kernel's {@code MAX_READERS_WAKEUP}: at most this many readers are let in by one wake-up. */
    static final int MAX_READERS_WAKEUP = 0x100;

    /**
     * The kernel's {@code RWSEM_WAIT_TIMEOUT} ({@code DIV_ROUND_UP(HZ, 250)} jiffies: 4 ms at the usual
     * {@code HZ} of 250 or 1000, at least one jiffy otherwise): a first waiter that
     * has waited this long and finds the lock held asks for a hand-over ({@link #HANDOFF}).
     */
    static final long RWSEM_WAIT_TIMEOUT_NANOS = 4_000_000L;

    /** {@code count}: a writer holds the lock ({@code RWSEM_WRITER_LOCKED}). */
    private static final int WRITER_LOCKED = 1;
    /** {@code count}: the waiter queue is not empty ({@code RWSEM_FLAG_WAITERS}); changed under {@code guard}. */
    private static final int HAS_WAITERS = 2;
    /**
     * {@code count}: the first waiter, having waited past {@link #RWSEM_WAIT_TIMEOUT_NANOS}, asked for
     * the lock to be handed to it ({@code RWSEM_FLAG_HANDOFF}): nobody else may take it. Set and
     * cleared under {@code guard}; only the first waiter sets it, and it is cleared when that waiter
     * leaves the queue.
     */
    private static final int HANDOFF = 4;
    /**
     * {@code count}: a release woke the first waiter, a writer, which has not yet retried; releases
     * wake no other (no kernel counterpart, see the class comment). Changed under {@code guard}.
     */
    private static final int WAKING = 8;
    /** {@code count}: one read hold ({@code RWSEM_READER_BIAS}); the holds are {@code count >>> 8}. */
    private static final int READER_BIAS = 1 << 8;
    /** {@code count}: the holders, a writer or readers ({@code RWSEM_LOCK_MASK}). */
    private static final int LOCK_MASK = WRITER_LOCKED | -READER_BIAS;
    /** A read acquisition's fast path needs these clear ({@code RWSEM_READ_FAILED_MASK}). */
    private static final int READ_FAILED_MASK = WRITER_LOCKED | HAS_WAITERS | HANDOFF;

    private static final VarHandle COUNT;
    private static final VarHandle WRITER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            COUNT = l.findVarHandle(RwSemaphore.class, "count", int.class);
            WRITER = l.findVarHandle(RwSemaphore.class, "writer", Task.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The lock word: flags and read holds (see the class comment). Atomic: changed only by
     * compare-and-set and atomic adds; {@link #HAS_WAITERS}, {@link #HANDOFF} and {@link #WAKING}
     * only under {@code guard}.
     */
    private volatile int count;
    /**
     * The write holder, or {@code null}. Written with release stores by the taker (fast path, steal
     * or retry) or by the releaser that hands the lock over (under {@code guard}), and cleared by the
     * holder; exact for the caller only.
     */
    private Task writer;

    /** A rw-semaphore whose class is its name. */
    public RwSemaphore(Platform platform, String name) {
        this(platform, name, name);
    }

    /** A rw-semaphore named {@code name} in lock class {@code lockClass}. */
    public RwSemaphore(Platform platform, String name, String lockClass) {
        super(platform, name, lockClass);
    }

    @Override
    public String kind() {
        return "rwsem";
    }

    /**
     * {@inheritDoc} Here: false. A waiter that must sleep sleeps at once, as a kernel rwsem waiter calls
     * {@code schedule()} once it is queued; where the kernel spins (a writer on a running owner, before
     * it queues) this model does not (the class comment). Measured on {@code RealPlatform}: the poll
     * cost contended writes 3.5× at two threads (docs/PERFORMANCE.md).
     */
    @Override
    public boolean pollsBeforeSleep() {
        return false;
    }

    /**
     * Takes the lock for reading ({@code down_read}): at once if no writer holds it and nobody waits;
     * otherwise the task queues and is let in with the next readers' phase (see the class comment),
     * so behind any writer that is first in line.
     */
    public void downRead() {
        downReadNested(0);
    }

    /**
     * Like {@link #downRead()}, telling the validator the nesting level among instances of this
     * class taken together on purpose ({@code down_read_nested}).
     */
    public void downReadNested(int subclass) {
        uninterruptible(() -> downReadCommon(subclass, Platform.NO_DEADLINE, false, "down_read"));
    }

    /**
     * Takes the lock for reading unless the task is interrupted first ({@code down_read_interruptible},
     * and {@code down_read_killable}: the JVM has one kind of interrupt). Free for reading, it is
     * taken even with an interrupt pending. A reader that gives up leaves the queue and tells the
     * validator the acquisition was released ({@code rwsem_release} on the kernel's error path).
     *
     * @throws InterruptedException if interrupted before the lock was granted; the interrupt is consumed
     */
    public void downReadInterruptible() throws InterruptedException {
        downReadCommon(0, Platform.NO_DEADLINE, true, "down_read_interruptible");
    }

    /**
     * Takes the lock for reading, sleeping at most {@code timeout} (no kernel counterpart; the JDK's
     * timed {@code tryLock}). The validator sees it as a try-lock: a timed wait cannot hang.
     *
     * @return whether the lock was taken
     */
    public boolean tryDownRead(Duration timeout) {
        return uninterruptible(() -> downReadCommon(0, platform.deadlineAfter(timeout), false, "down_read_timeout"));
    }

    boolean tryDownReadInterruptible(Duration timeout) throws InterruptedException {
        return downReadCommon(0, platform.deadlineAfter(timeout), true, "down_read_interruptible_timeout");
    }

    private boolean downReadCommon(int subclass, long deadline, boolean interruptible, String op) throws InterruptedException {
        Task self = platform.currentTask();
        LockEvents ev = beginAcquire(self, op, deadline, LockEvents.SHARED, subclass);
        if (tryReadFast()) {
            self.pushHeld(this);
            endAcquire(self, ev, deadline, LockEvents.SHARED);
            return true;
        }
        Waiter w;
        guard.lock();
        try {
            if (writer == self) {
                throw refusedAfterBegin(self, ev, deadline, "down_read of " + describe() + " by task " + self
                        + ", which holds it for write: this would deadlock");
            }
            if (tryReadFast() || tryReadStealLocked()) {
                self.pushHeld(this);
                w = null;
            } else {
                w = enqueueWaiterLocked(self, Waiter.SHARED);
                condWakeLocked();
                if (!w.granted && self.holds(this)) {
                    waiters.removeLastOccurrence(w);
                    clearWaitersFlagIfEmptyLocked();
                    throw refusedAfterBegin(self, ev, deadline, "recursive down_read of " + describe() + " by task " + self
                            + " while a writer is queued: the writer waits for this task's read hold, and this "
                            + "read waits behind the writer, so it would deadlock");
                }
            }
        } finally {
            guard.unlock();
        }
        if (w != null) {
            if (!settle(self, awaitGrant(w, deadline, interruptible), ev, deadline, op)) {
                return false;
            }
            self.pushHeld(this);
        }
        endAcquire(self, ev, deadline, LockEvents.SHARED);
        return true;
    }

    /**
     * Adds a read hold if no writer holds the lock and nobody waits: the read fast path
     * ({@code rwsem_read_trylock}), retried only while another reader's change made it fail.
     */
    private boolean tryReadFast() {
        for (int c = count; (c & READ_FAILED_MASK) == 0; c = count) {
            if (COUNT.weakCompareAndSet(this, c, c + READER_BIAS)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes a read hold of a lock that nobody holds, even with waiters queued, unless the first
     * waiter asked for a hand-over: the kernel's reader optimistic lock stealing in
     * {@code rwsem_down_read_slowpath}, which lets a running reader have a lock freed while the woken
     * writer is still on its way. Never while other readers hold it (the kernel queues a reader when
     * the lock is reader-owned with others in it, so that a stream of readers cannot starve a queued
     * writer: the writer preference behind the {@code _origins_lock} deadlock). A reader that steals
     * the lock with waiters queued lets in the readers at the head of the queue, as the kernel's
     * first stealing reader does ({@code rwsem_mark_wake} with {@code RWSEM_WAKE_READ_OWNED}; a writer
     * first in line keeps waiting). Call with the guard held.
     */
    private boolean tryReadStealLocked() {
        assert guard.isHeldByCurrentThread();
        for (int c = count; (c & (LOCK_MASK | HANDOFF)) == 0; c = count) {
            if (COUNT.weakCompareAndSet(this, c, c + READER_BIAS)) {
                if ((c & HAS_WAITERS) != 0) {
                    markWakeLocked(WakeType.READ_OWNED);
                }
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the lock for writing if it is free and nobody waits: the write fast path
     * ({@code rwsem_write_trylock}), also {@code down_write_trylock}.
     */
    private boolean tryWriteFast(Task self) {
        if (COUNT.compareAndSet(this, 0, WRITER_LOCKED)) {
            WRITER.setRelease(this, self);
            return true;
        }
        return false;
    }

    /**
     * Queues a waiter, starts its {@link #RWSEM_WAIT_TIMEOUT_NANOS} ({@code waiter.timeout}) and sets
     * {@link #HAS_WAITERS}, which closes the fast paths. Call with the guard held.
     */
    private Waiter enqueueWaiterLocked(Task self, int mode) {
        Waiter w = enqueueLocked(self, mode);
        w.timeout = platform.nanoTime() + RWSEM_WAIT_TIMEOUT_NANOS;
        COUNT.getAndBitwiseOr(this, HAS_WAITERS);
        return w;
    }

    /** Whether {@code w} has waited past its {@link #RWSEM_WAIT_TIMEOUT_NANOS}. Call with the guard held. */
    private boolean waitedTooLong(Waiter w) {
        return platform.nanoTime() - w.timeout >= 0;
    }

    /**
     * Takes the lock for writing if nobody holds it and no first waiter asked for a hand-over, even
     * with waiters queued: the kernel's writer lock stealing ({@code rwsem_try_write_lock_unqueued}),
     * which lets a running writer have a lock freed while the woken waiter is still on its way.
     */
    private boolean tryWriteSteal(Task self) {
        for (int c = count; (c & (LOCK_MASK | HANDOFF)) == 0; c = count) {
            if (COUNT.weakCompareAndSet(this, c, c | WRITER_LOCKED)) {
                WRITER.setRelease(this, self);
                return true;
            }
        }
        return false;
    }

    /** Clears {@link #HAS_WAITERS} once the queue is empty, reopening the fast paths. Call with the guard held. */
    private void clearWaitersFlagIfEmptyLocked() {
        assert guard.isHeldByCurrentThread();
        if (waiters.isEmpty()) {
            COUNT.getAndBitwiseAnd(this, ~HAS_WAITERS);
        }
    }

    /** Takes the lock for reading if no writer holds it or waits for it ({@code down_read_trylock}). */
    public boolean tryDownRead() {
        Task self = platform.currentTask();
        platform.preemptionPoint();
        if (!tryReadFast()) {
            return false;
        }
        self.pushHeld(this);
        reportTryAcquire(self, LockEvents.SHARED);
        return true;
    }

    private void reportTryAcquire(Task self, int mode) {
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.acquire(self, this, mode, 0, true);
        }
    }

    private void reportRelease(Task self) {
        LockEvents ev = platform.lockEvents();
        if (ev != null) {
            ev.release(self, this);
        }
    }

    /** Releases one read hold of the calling task ({@code up_read}). */
    public void upRead() {
        Task self = platform.currentTask();
        if (writer == self || !self.removeHeld(this)) {
            throw new IllegalStateException("up_read of " + describe() + " by task " + self
                    + (writer == self ? ", which holds it for write" : ", which does not hold it for read"));
        }
        int c = (int) COUNT.getAndAdd(this, -READER_BIAS) - READER_BIAS;
        if ((c & LOCK_MASK) == 0 && wakeNeeded(c)) {
            wakeAfterReleaseSlow(); // rwsem_wake
        }
        reportRelease(self);
        platform.preemptionPoint();
    }

    /** Takes the lock for writing, waiting for current holders and earlier waiters ({@code down_write}). */
    public void downWrite() {
        downWriteNested(0);
    }

    /**
     * Like {@link #downWrite()}, telling the validator the nesting level among instances of this
     * class taken together on purpose ({@code down_write_nested}).
     */
    public void downWriteNested(int subclass) {
        uninterruptible(() -> downWriteCommon(subclass, Platform.NO_DEADLINE, false, "down_write"));
    }

    /**
     * Takes the lock for writing unless the task is interrupted first ({@code down_write_killable};
     * the JVM has one kind of interrupt). A writer that gives up leaves the queue and lets in the
     * readers it was holding back, as {@code rwsem_del_wake_waiter} does, and tells the validator the
     * acquisition was released.
     *
     * @throws InterruptedException if interrupted before the lock was granted; the interrupt is consumed
     */
    public void downWriteInterruptible() throws InterruptedException {
        downWriteCommon(0, Platform.NO_DEADLINE, true, "down_write_killable");
    }

    /**
     * Takes the lock for writing, sleeping at most {@code timeout} (no kernel counterpart; the JDK's
     * timed {@code tryLock}). A writer that times out lets in the readers queued behind it. The
     * validator sees it as a try-lock.
     *
     * @return whether the lock was taken
     */
    public boolean tryDownWrite(Duration timeout) {
        return uninterruptible(() -> downWriteCommon(0, platform.deadlineAfter(timeout), false, "down_write_timeout"));
    }

    boolean tryDownWriteInterruptible(Duration timeout) throws InterruptedException {
        return downWriteCommon(0, platform.deadlineAfter(timeout), true, "down_write_killable_timeout");
    }

    private boolean downWriteCommon(int subclass, long deadline, boolean interruptible, String op) throws InterruptedException {
        Task self = platform.currentTask();
        LockEvents ev = beginAcquire(self, op, deadline, LockEvents.EXCLUSIVE, subclass);
        if (self.holds(this)) {
            throw refusedAfterBegin(self, ev, deadline, "down_write of " + describe() + " by task " + self
                    + ", which already holds it" + (writer == self ? " for write" : " for read")
                    + ": this would deadlock");
        }
        if (tryWriteFast(self) || tryWriteSteal(self)) {
            self.pushHeld(this);
            endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
            return true;
        }
        Waiter w;
        guard.lock();
        try {
            w = enqueueWaiterLocked(self, Waiter.EXCLUSIVE);
            if (waiters.peekFirst() != w) {
                condWakeLocked(); // rwsem_down_write_slowpath: readers first in line may be let in now
            }
        } finally {
            guard.unlock();
        }
        if (!settle(self, awaitWriteLock(self, w, deadline, interruptible), ev, deadline, op)) {
            return false;
        }
        self.pushHeld(this);
        endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
        return true;
    }

    /**
     * The queued writer's wait ({@code rwsem_down_write_slowpath}'s loop): retries the lock at once
     * and after every wake-up, sleeping in between, until it holds it (by its own retry or a
     * hand-over), the deadline passes or it is interrupted; a writer that gives up leaves the queue.
     *
     * @return {@link #GRANTED}, {@link #TIMED_OUT} or {@link #INTERRUPTED}
     */
    private int awaitWriteLock(Task self, Waiter w, long deadline, boolean interruptible) {
        BooleanSupplier acquired = () -> w.granted || retryWriteLock(self, w);
        int outcome;
        try {
            boolean got = interruptible
                    ? platform.awaitInterruptible(this, acquired, deadline)
                    : platform.await(this, acquired, deadline);
            if (got) {
                return GRANTED;
            }
            outcome = TIMED_OUT;
        } catch (InterruptedException e) {
            outcome = INTERRUPTED;
        }
        guard.lock();
        try {
            return leaveWriteQueueLocked(w, outcome);
        } finally {
            guard.unlock();
        }
    }

    /** One retry of a queued writer, under the guard. */
    private boolean retryWriteLock(Task self, Waiter w) {
        guard.lock();
        try {
            return tryWriteLockLocked(self, w);
        } finally {
            guard.unlock();
        }
    }

    /**
     * The kernel's {@code rwsem_try_write_lock}: the queued writer {@code w} takes the lock if nobody
     * holds it and no other waiter asked for a hand-over, leaving the queue (and clearing
     * {@link #HAS_WAITERS} if it was the last waiter, {@link #HANDOFF} if it had set it). If the lock
     * is held and {@code w} is first in line and has waited past its timeout, it sets
     * {@link #HANDOFF} instead. A writer holding the waking role gives it back in the same
     * compare-and-set. Only the first waiter is ever woken, and waiters queue at the tail, so a
     * woken {@code w} is still first here. Call with the guard held.
     *
     * @return whether {@code self} holds the lock now
     */
    private boolean tryWriteLockLocked(Task self, Waiter w) {
        assert guard.isHeldByCurrentThread();
        boolean first = waiters.peekFirst() == w;
        assert first || !w.woken : "the waking role went to a waiter that is not the head";
        int clear = w.woken ? WAKING : 0;
        int c = count;
        while (true) {
            int next = c & ~clear;
            boolean take = false;
            if ((c & LOCK_MASK) == 0 && ((c & HANDOFF) == 0 || first)) {
                next = (next | WRITER_LOCKED) & ~HANDOFF; // HANDOFF set with w first: w set it
                if (waiters.size() == 1) {
                    next &= ~HAS_WAITERS;
                }
                take = true;
            } else if (first && (c & HANDOFF) == 0 && waitedTooLong(w)) {
                next |= HANDOFF; // held by others for too long: nobody may take it past w now
            }
            if (next == c) {
                return false;
            }
            int seen = (int) COUNT.compareAndExchange(this, c, next);
            if (seen == c) {
                w.woken = false;
                if (take) {
                    waiters.remove(w);
                    WRITER.setRelease(this, self);
                }
                return take;
            }
            c = seen; // a release, a steal or a fast-path reader changed the word meanwhile
        }
    }

    /**
     * The writer gave up ({@code outcome}), unless a hand-over came meanwhile, which stands. It leaves
     * the queue, gives back the waking role and withdraws its hand-over request if it had them, and
     * lets in whoever it held back ({@code rwsem_del_wake_waiter}, which calls
     * {@code rwsem_mark_wake} with {@code RWSEM_WAKE_ANY}). Guard held.
     *
     * @return the outcome, {@link #GRANTED} if the lock was handed over meanwhile
     */
    private int leaveWriteQueueLocked(Waiter w, int outcome) {
        assert guard.isHeldByCurrentThread();
        if (w.granted) {
            if (outcome == INTERRUPTED) {
                platform.interrupt(w.task); // too late to matter here: keep it for the next wait
            }
            return GRANTED;
        }
        boolean first = waiters.peekFirst() == w;
        waiters.remove(w);
        int clear = (w.woken ? WAKING : 0) | (first ? HANDOFF : 0) | (waiters.isEmpty() ? HAS_WAITERS : 0);
        w.woken = false;
        COUNT.getAndBitwiseAnd(this, ~clear);
        condWakeLocked();
        return outcome;
    }

    /**
     * A reader gave up: it leaves its hand-over request behind if it had made one (it was first),
     * and whoever it held back may go now ({@code rwsem_del_wake_waiter}). A reader that left the
     * head of the queue while readers hold the lock lets the queued readers join them.
     */
    @Override
    void withdrawnLocked(boolean wasFirst) {
        int clear = (wasFirst ? HANDOFF : 0) | (waiters.isEmpty() ? HAS_WAITERS : 0);
        if (clear != 0) {
            COUNT.getAndBitwiseAnd(this, ~clear);
        }
        condWakeLocked();
    }

    /**
     * This rw-semaphore as a {@link java.util.concurrent.locks.ReadWriteLock}: the read lock is
     * {@link #downRead()}/{@link #upRead()}, the write lock {@link #downWrite()}/{@link #upWrite()},
     * with the writer preference and every check of this class (neither is reentrant; a read hold
     * cannot be upgraded). {@code lockInterruptibly} and the timed {@code tryLock} are interruptible
     * and throw at once when the caller is interrupted on entry. The write lock's
     * {@code newCondition} gives a condition on a {@link WaitQueue}; the read lock's throws
     * {@link UnsupportedOperationException}, as {@link java.util.concurrent.locks.ReentrantReadWriteLock}'s does.
     */
    public java.util.concurrent.locks.ReadWriteLock asReadWriteLock() {
        java.util.concurrent.locks.Lock read = new PrimitiveLock(platform, describe() + " (read)", this::downRead,
                this::downReadInterruptible, this::upRead, this::tryDownRead, this::tryDownReadInterruptible,
                () -> self().holds(this) && writer() != self(), false);
        java.util.concurrent.locks.Lock write = new PrimitiveLock(platform, describe() + " (write)", this::downWrite,
                this::downWriteInterruptible, this::upWrite, this::tryDownWrite, this::tryDownWriteInterruptible,
                () -> writer() == self(), true);
        return new java.util.concurrent.locks.ReadWriteLock() {
            @Override public java.util.concurrent.locks.Lock readLock() { return read; }
            @Override public java.util.concurrent.locks.Lock writeLock() { return write; }
        };
    }

    private Task self() {
        return platform.currentTask();
    }

    /** Takes the lock for writing if nobody holds it or waits for it ({@code down_write_trylock}). */
    public boolean tryDownWrite() {
        Task self = platform.currentTask();
        platform.preemptionPoint();
        if (!tryWriteFast(self)) {
            return false;
        }
        self.pushHeld(this);
        reportTryAcquire(self, LockEvents.EXCLUSIVE);
        return true;
    }

    /** Releases the write lock ({@code up_write}). */
    public void upWrite() {
        Task self = requireWriter("up_write");
        self.removeHeld(this);
        WRITER.setRelease(this, null);
        if (!COUNT.compareAndSet(this, WRITER_LOCKED, 0)) {
            int c = (int) COUNT.getAndAdd(this, -WRITER_LOCKED) - WRITER_LOCKED; // flags are set: free the word
            if (wakeNeeded(c)) {
                wakeAfterReleaseSlow(); // rwsem_wake
            }
        }
        reportRelease(self);
        platform.preemptionPoint();
    }

    /**
     * Turns the caller's write hold into a read hold without letting a writer in between
     * ({@code downgrade_write}); readers queued at the head are let in with it.
     */
    public void downgradeWrite() {
        Task self = requireWriter("downgrade_write");
        guard.lock();
        try {
            WRITER.setRelease(this, null);
            COUNT.getAndAdd(this, READER_BIAS - WRITER_LOCKED);
            markWakeLocked(WakeType.READ_OWNED);
        } finally {
            guard.unlock();
        }
        // lockdep's lock_downgrade: the hold changes mode, with no wait and so no new dependency.
        reportRelease(self);
        reportTryAcquire(self, LockEvents.SHARED);
        platform.preemptionPoint();
    }

    /** The caller's task, which must hold the write lock; found without a lookup ({@link Platform#isCurrentTask}). */
    private Task requireWriter(String op) {
        Task w = writer;
        if (w == null || !platform.isCurrentTask(w)) {
            Task holder = writer();
            throw new IllegalStateException(op + " of " + describe() + " by task " + platform.currentTask()
                    + (holder == null ? ", but it is not write-locked" : ", but it is write-locked by task " + holder));
        }
        return w;
    }

    /**
     * Whether a release that left the word {@code c} (no holder) must take the guard to wake or hand
     * over: waiters are queued and either the first asked for a hand-over or no woken writer is on
     * its way.
     */
    private static boolean wakeNeeded(int c) {
        return (c & HAS_WAITERS) != 0 && (c & (WAKING | HANDOFF)) != WAKING;
    }

    /** A release left the lock free with waiters queued: wake or hand on ({@code rwsem_wake}). */
    private void wakeAfterReleaseSlow() {
        guard.lock();
        try {
            markWakeLocked(WakeType.ANY);
        } finally {
            guard.unlock();
        }
    }

    /**
     * Why {@link #markWakeLocked} is called, the kernel's {@code enum rwsem_wake_type}: a release that
     * may let anyone in, a reader's arrival while readers hold the lock, or a downgrade (the caller
     * already holds a read hold, so readers may join it).
     */
    private enum WakeType {
        /** {@code RWSEM_WAKE_ANY}: the lock may be free; wake the head writer or the readers. */
        ANY,
        /** {@code RWSEM_WAKE_READERS}: the lock is read-held; only readers may be let in. */
        READERS,
        /** {@code RWSEM_WAKE_READ_OWNED}: the waker holds it for read; only readers may be let in. */
        READ_OWNED
    }

    /**
     * The kernel's {@code rwsem_mark_wake}. Call with the guard held.
     *
     * <ul>
     *   <li>First waiter a writer, on {@link WakeType#ANY} with the lock free: if it asked for a
     *       hand-over ({@link #HANDOFF}), it gets the lock now; otherwise it is woken to retry, unless
     *       a woken writer is already on its way ({@link #WAKING}). Nobody is woken while the lock is
     *       held (a writer stole it after the release, and perhaps downgraded: its release comes here
     *       again); if the writer has waited past its timeout, {@link #HANDOFF} is set for it then,
     *       so that a writer that looks only when woken cannot lose this race for ever.
     *   <li>First waiter a reader, and no writer holds the lock: it and every other queued reader,
     *       wherever it is in the queue (also behind writers), up to {@link #MAX_READERS_WAKEUP} in
     *       all, get a read hold; writers keep their places. This is the phase-fair rule of
     *       {@code rwsem_mark_wake}. If a writer holds it (it stole the lock before this grant) and
     *       the reader has waited past its timeout, it asks for a hand-over, so the next release
     *       grants the readers.
     * </ul>
     */
    private void markWakeLocked(WakeType type) {
        assert guard.isHeldByCurrentThread();
        Waiter first = waiters.peekFirst();
        if (first == null) {
            return;
        }
        int c = count;
        if (first.mode == Waiter.EXCLUSIVE) {
            if (type != WakeType.ANY) {
                return;
            }
            if ((c & LOCK_MASK) != 0) {
                // A writer stole the lock after the release that brought us here. The kernel wakes the
                // writer anyway and it sets HANDOFF on finding the lock held past its timeout; waking
                // it would be futile, so set HANDOFF for it, as for a reader first in line below.
                if ((c & HANDOFF) == 0 && waitedTooLong(first)) {
                    COUNT.getAndBitwiseOr(this, HANDOFF);
                }
                return;
            }
            if ((c & HANDOFF) != 0) {
                handOffLocked(first, c);
            } else if ((c & WAKING) == 0) {
                // the flag before the bit, in this guard hold: the woken writer reads both under the guard
                first.woken = true;
                COUNT.getAndBitwiseOr(this, WAKING);
                platform.wake(first.task);
            }
            return;
        }
        // First pass: how many readers this wake-up lets in.
        int n = 0;
        for (Waiter w : waiters) {
            if (w.mode == Waiter.SHARED && ++n == MAX_READERS_WAKEUP) {
                break;
            }
        }
        boolean all = n == waiters.size();
        // All their holds at once, unless a writer stole the lock: a granted reader may leave at once,
        // and holds added one by one could let a stealing writer in beside the rest.
        while (true) {
            if ((c & WRITER_LOCKED) != 0) {
                if ((c & HANDOFF) == 0 && waitedTooLong(first)) {
                    COUNT.getAndBitwiseOr(this, HANDOFF);
                }
                return;
            }
            int next = (c + n * READER_BIAS) & ~(HANDOFF | (all ? HAS_WAITERS : 0));
            int seen = (int) COUNT.compareAndExchange(this, c, next);
            if (seen == c) {
                break;
            }
            c = seen;
        }
        // Second pass: grant and wake them.
        int granted = 0;
        for (Iterator<Waiter> it = waiters.iterator(); granted < n; ) {
            Waiter w = it.next();
            if (w.mode == Waiter.SHARED) {
                it.remove();
                granted++;
                grantLocked(w);
            }
        }
    }

    /**
     * The first waiter, a writer, asked for a hand-over and the lock is free ({@code c}): it gets the
     * write hold now, leaving the queue. With {@link #HANDOFF} set nobody else can take the lock, so
     * the word changes meanwhile only by flags under this guard (none). Call with the guard held.
     */
    private void handOffLocked(Waiter first, int c) {
        assert guard.isHeldByCurrentThread();
        while (true) {
            assert (c & LOCK_MASK) == 0 && (c & HANDOFF) != 0;
            int next = (c | WRITER_LOCKED) & ~(HANDOFF | WAKING);
            if (waiters.size() == 1) {
                next &= ~HAS_WAITERS;
            }
            int seen = (int) COUNT.compareAndExchange(this, c, next);
            if (seen == c) {
                break;
            }
            c = seen;
        }
        waiters.pollFirst();
        first.woken = false;
        WRITER.setRelease(this, first.task);
        grantLocked(first);
    }

    /**
     * The kernel's {@code rwsem_cond_wake_waiter}: after queueing, or after a waiter left, let in
     * whoever may have the lock now: readers while no writer holds it, or the first writer (woken) if
     * the lock is free. Call with the guard held.
     */
    private void condWakeLocked() {
        assert guard.isHeldByCurrentThread();
        int c = count;
        if ((c & WRITER_LOCKED) == 0) {
            markWakeLocked((c >>> 8) > 0 ? WakeType.READERS : WakeType.ANY);
        }
    }

    /** The task holding the lock for write, or {@code null}. Advisory. */
    public Task writer() {
        return (Task) WRITER.getAcquire(this);
    }

    /**
     * Whether the first waiter has asked for the lock to be handed to it at the next release
     * ({@code RWSEM_FLAG_HANDOFF}). Advisory; for tests.
     */
    boolean isHandOffRequested() {
        return (count & HANDOFF) != 0;
    }

    /** How many read holds are active. Advisory. */
    public int readers() {
        return count >>> 8;
    }

    /** Whether a writer is queued, which makes new readers wait. Advisory. */
    public boolean hasQueuedWriter() {
        guard.lock();
        try {
            for (Waiter w : waiters) {
                if (w.mode == Waiter.EXCLUSIVE) {
                    return true;
                }
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /** Every task waiting, readers and writers, in queue order (oldest first). A snapshot. */
    public List<Task> waitingTasks() {
        return queuedTasks(-1);
    }

    /** The tasks waiting for write, oldest first. A snapshot. */
    public List<Task> queuedWriters() {
        return queuedTasks(Waiter.EXCLUSIVE);
    }

    /** The tasks waiting for read, oldest first. A snapshot. */
    public List<Task> queuedReaders() {
        return queuedTasks(Waiter.SHARED);
    }

    /**
     * The writers queued ahead of {@code task}, oldest first: those that keep a queued reader waiting
     * by writer preference (a writer behind it does not: the next release lets the reader's phase
     * in). Every queued writer if {@code task} is not queued. One snapshot, under the guard.
     */
    public List<Task> writersQueuedAhead(Task task) {
        guard.lock();
        try {
            List<Task> out = new java.util.ArrayList<>();
            for (Waiter w : waiters) {
                if (w.task == task) {
                    break;
                }
                if (w.mode == Waiter.EXCLUSIVE) {
                    out.add(w.task);
                }
            }
            return out;
        } finally {
            guard.unlock();
        }
    }
}
