package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;

/**
 * A sleeping reader/writer lock with the kernel's <b>writer preference</b>, like {@code struct rw_semaphore}.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Either one writer or any number of readers hold it.
 *   <li><b>Once a writer is queued, new readers queue behind it, even while the lock is read-held.</b>
 *       Readers that hold it keep it; the writer gets it when the last of them leaves. This prevents
 *       writer starvation, and it is exactly the property behind the 2019 dm-snapshot deadlock
 *       ({@code _origins_lock}): a reader that must re-take the lock to let another reader finish
 *       waits behind the queued writer, which waits for that other reader.
 *   <li>Wake-ups follow {@code rwsem_mark_wake} in {@code kernel/locking/rwsem.c}, which is
 *       <em>phase-fair</em>: releasing the write lock or the last read lock hands the lock directly
 *       to the first waiter's phase. A writer first in line gets it alone. A reader first in line
 *       gets it together with every other queued reader, also those queued behind writers, up to
 *       256 ({@code MAX_READERS_WAKEUP}) in one wake-up; the writers keep their places. Writers are
 *       served in arrival order. {@link #downgradeWrite} lets queued readers in the same way
 *       ({@code RWSEM_WAKE_READ_OWNED}), never a writer.
 *   <li>Misuse is reported: releasing a mode the caller does not hold, taking it for write while
 *       holding it at all, for read while holding it for write, or for read again while a writer is
 *       queued ahead of the caller's new request (each would deadlock).
 * </ul>
 * Blocking calls from atomic context throw {@link dev.rescuer.core.platform.AtomicContextException}.
 *
 * <p><b>Differences from the kernel.</b> There is no optimistic spinning and no lock stealing: the
 * lock is always handed over under the guard, as if the kernel's {@code RWSEM_FLAG_HANDOFF} were
 * always set, so a woken waiter never competes again and schedules stay reproducible.
 *
 * <p><b>Implementation.</b> One word, {@code count}, packs the state as the kernel's
 * {@code sem->count} does: {@link #WRITER_LOCKED}, {@link #HAS_WAITERS} (the queue is not empty) and
 * the number of read holds in units of {@link #READER_BIAS}. The fast paths touch only the word: a
 * read acquisition is one compare-and-set adding a reader while neither flag is set (so a queued
 * writer stops newcomers); a read release is one atomic add; a write acquisition and release are
 * compare-and-sets between 0 and {@link #WRITER_LOCKED}. No guard is taken and nothing is allocated.
 * Everything else (queueing, {@code rwsem_mark_wake}, the flag) happens under the raw guard: the
 * queue and {@link #HAS_WAITERS} change only there, and a release that leaves the lock free with the
 * flag set takes the guard to hand the lock on. The write holder is kept beside the word in
 * {@code writer}, set by whoever grants the write hold before the grant is visible and cleared by the
 * holder before it lets go.
 *
 * <p><b>Memory ordering.</b> {@code count} is the lock word: a successful compare-and-set or add
 * that takes a hold is the acquire and the atomic operation that gives it back is the release, so a
 * writer's critical section happens-before the next holder's. With {@link #HAS_WAITERS} set, only
 * releases change the word outside the guard, and every change is an atomic read-modify-write of the
 * one word, so they are totally ordered with the flag's setting: a releaser whose operation comes
 * after a waiter set the flag sees it and takes the guard to wake; one whose operation comes before
 * it is seen by the waiter, which (as {@code rwsem_cond_wake_waiter}) re-reads the word after
 * setting the flag and lets itself in when the lock is free. No wake-up is lost. A grant updates the
 * word and {@code writer} and then sets the waiter's volatile {@code granted} under the guard before
 * waking the task; the woken task reads {@code granted} in its wait condition, so that volatile pair
 * publishes the state written on its behalf. {@code writer} is written with release stores and read
 * with an acquire by reports; it is exact for the calling task (the holder clears it before its
 * release, so a stale value is never the caller) and advisory for others. The queue is guarded by
 * the guard.
 */
public final class RwSemaphore extends SleepingPrimitive {

    /** The kernel's {@code MAX_READERS_WAKEUP}: at most this many readers are let in by one wake-up. */
    static final int MAX_READERS_WAKEUP = 0x100;

    /** {@code count}: a writer holds the lock ({@code RWSEM_WRITER_LOCKED}). */
    private static final int WRITER_LOCKED = 1;
    /** {@code count}: the waiter queue is not empty ({@code RWSEM_FLAG_WAITERS}); changed under {@code guard}. */
    private static final int HAS_WAITERS = 2;
    /** {@code count}: one read hold ({@code RWSEM_READER_BIAS}); the holds are {@code count >>> 8}. */
    private static final int READER_BIAS = 1 << 8;
    /** A read acquisition's fast path needs both flags clear. */
    private static final int READ_FAILED_MASK = WRITER_LOCKED | HAS_WAITERS;

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
     * compare-and-set and atomic adds; {@link #HAS_WAITERS} only under {@code guard}.
     */
    private volatile int count;
    /**
     * The write holder, or {@code null}. Written with release stores by the granter (under
     * {@code guard}) or the fast-path taker, and cleared by the holder; exact for the caller only.
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
                throw new IllegalStateException("down_read of " + describe() + " by task " + self
                        + ", which holds it for write: this would deadlock");
            }
            if (tryReadFast()) {
                self.pushHeld(this);
                w = null;
            } else {
                w = enqueueWaiterLocked(self, Waiter.SHARED);
                condWakeLocked();
                if (!w.granted && self.holds(this)) {
                    waiters.removeLastOccurrence(w);
                    clearWaitersFlagIfEmptyLocked();
                    throw new IllegalStateException("recursive down_read of " + describe() + " by task " + self
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

    /** Takes the lock for writing if it is free and nobody waits: the write fast path ({@code rwsem_write_trylock}). */
    private boolean tryWriteFast(Task self) {
        if (COUNT.compareAndSet(this, 0, WRITER_LOCKED)) {
            WRITER.setRelease(this, self);
            return true;
        }
        return false;
    }

    /** Queues a waiter and sets {@link #HAS_WAITERS}, which closes the fast paths. Call with the guard held. */
    private Waiter enqueueWaiterLocked(Task self, int mode) {
        Waiter w = enqueueLocked(self, mode);
        COUNT.getAndBitwiseOr(this, HAS_WAITERS);
        return w;
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
        if ((c >>> 8) == 0 && (c & HAS_WAITERS) != 0) {
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
        if (!self.holds(this) && tryWriteFast(self)) {
            self.pushHeld(this);
            endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
            return true;
        }
        Waiter w;
        guard.lock();
        try {
            if (self.holds(this)) {
                throw new IllegalStateException("down_write of " + describe() + " by task " + self
                        + ", which already holds it" + (writer == self ? " for write" : " for read")
                        + ": this would deadlock");
            }
            if (tryWriteFast(self)) {
                self.pushHeld(this);
                w = null;
            } else {
                w = enqueueWaiterLocked(self, Waiter.EXCLUSIVE);
                condWakeLocked();
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
        endAcquire(self, ev, deadline, LockEvents.EXCLUSIVE);
        return true;
    }

    /**
     * A waiter gave up: whoever it held back may go now ({@code rwsem_del_wake_waiter}, which calls
     * {@code rwsem_mark_wake} with {@code RWSEM_WAKE_ANY}). A writer that left the head of the queue
     * while readers hold the lock lets the queued readers join them.
     */
    @Override
    void withdrawnLocked() {
        clearWaitersFlagIfEmptyLocked();
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
            COUNT.getAndAdd(this, -WRITER_LOCKED); // waiters are queued: only a release may change the word now
            wakeAfterReleaseSlow();
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

    /** A release left the lock free with waiters queued: hand it on ({@code rwsem_wake}). */
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
     * The kernel's {@code rwsem_mark_wake}, with direct hand-over. Call with the guard held.
     *
     * <ul>
     *   <li>First waiter a writer: on {@link WakeType#ANY} with the lock free, it gets the lock, alone.
     *       Otherwise nobody is woken (readers hold it, or the caller is a reader joining them).
     *   <li>First waiter a reader, and no writer holds the lock: it and every other queued reader,
     *       wherever it is in the queue (also behind writers), up to {@link #MAX_READERS_WAKEUP} in
     *       all, get a read hold; writers keep their places. This is the phase-fair rule of
     *       {@code rwsem_mark_wake}.
     * </ul>
     */
    private void markWakeLocked(WakeType type) {
        assert guard.isHeldByCurrentThread();
        Waiter first = waiters.peekFirst();
        int c = count;
        if (first == null || (c & WRITER_LOCKED) != 0) {
            return;
        }
        if (first.mode == Waiter.EXCLUSIVE) {
            if (type == WakeType.ANY && (c >>> 8) == 0) {
                // HAS_WAITERS is set and the lock is free, so nobody else can change the word now.
                waiters.pollFirst();
                COUNT.getAndAdd(this, WRITER_LOCKED);
                WRITER.setRelease(this, first.task);
                clearWaitersFlagIfEmptyLocked();
                grantLocked(first);
            }
            return;
        }
        int woken = 0;
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext() && woken < MAX_READERS_WAKEUP; ) {
            Waiter w = it.next();
            if (w.mode == Waiter.SHARED) {
                it.remove();
                COUNT.getAndAdd(this, READER_BIAS);
                woken++;
                grantLocked(w);
            }
        }
        clearWaitersFlagIfEmptyLocked();
    }

    /**
     * The kernel's {@code rwsem_cond_wake_waiter}: after queueing, let in whoever may have the lock
     * now. Only readers beyond one {@link #MAX_READERS_WAKEUP} batch can be in that position, since
     * every release already grants the head when it can. Call with the guard held.
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
}
