package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

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
 *   <li>Waiters are served in FIFO order. Releasing the write lock, or the last read lock, hands the
 *       lock over directly to the head of the queue: to one writer, or to every reader queued before
 *       the next writer.
 *   <li>Misuse is reported: releasing a mode the caller does not hold, taking it for write while
 *       holding it at all, for read while holding it for write, or for read again while a writer is
 *       queued behind the caller's own read hold (each would deadlock).
 * </ul>
 * Blocking calls from atomic context throw {@link dev.rescuer.core.platform.AtomicContextException}.
 */
public final class RwSemaphore extends SleepingPrimitive {

    // Guarded by guard.
    private int readers;
    private Task writer;
    private int queuedWriters;

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

    /** Takes the lock for reading, behind any queued writer ({@code down_read}). */
    public void downRead() {
        Task self = platform.currentTask();
        self.checkMaySleep(this, "down_read");
        platform.preemptionPoint();
        Waiter w;
        guard.lock();
        try {
            if (writer == self) {
                throw new IllegalStateException("down_read of " + describe() + " by task " + self
                        + ", which holds it for write: this would deadlock");
            }
            if (writer == null && waiters.isEmpty()) {
                readers++;
                self.pushHeld(this);
                return;
            }
            if (self.holds(this)) {
                throw new IllegalStateException("recursive down_read of " + describe() + " by task " + self
                        + " while a writer is queued: the writer waits for this task's read hold, and this "
                        + "read waits behind the writer, so it would deadlock");
            }
            w = enqueueLocked(self, Waiter.SHARED);
        } finally {
            guard.unlock();
        }
        awaitGrant(w, Platform.NO_DEADLINE);
        self.pushHeld(this);
    }

    /** Takes the lock for reading if no writer holds it or waits for it ({@code down_read_trylock}). */
    public boolean tryDownRead() {
        Task self = platform.currentTask();
        platform.preemptionPoint();
        guard.lock();
        try {
            if (writer == null && waiters.isEmpty()) {
                readers++;
                self.pushHeld(this);
                return true;
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /** Releases one read hold of the calling task ({@code up_read}). */
    public void upRead() {
        Task self = platform.currentTask();
        guard.lock();
        try {
            if (writer == self || !self.holds(this)) {
                throw new IllegalStateException("up_read of " + describe() + " by task " + self
                        + (writer == self ? ", which holds it for write" : ", which does not hold it for read"));
            }
            self.removeHeld(this);
            readers--;
            if (readers == 0) {
                grantHeadLocked();
            }
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /** Takes the lock for writing, waiting for current holders and earlier waiters ({@code down_write}). */
    public void downWrite() {
        Task self = platform.currentTask();
        self.checkMaySleep(this, "down_write");
        platform.preemptionPoint();
        Waiter w;
        guard.lock();
        try {
            if (self.holds(this)) {
                throw new IllegalStateException("down_write of " + describe() + " by task " + self
                        + ", which already holds it" + (writer == self ? " for write" : " for read")
                        + ": this would deadlock");
            }
            if (writer == null && readers == 0 && waiters.isEmpty()) {
                writer = self;
                self.pushHeld(this);
                return;
            }
            w = enqueueLocked(self, Waiter.EXCLUSIVE);
            queuedWriters++;
        } finally {
            guard.unlock();
        }
        awaitGrant(w, Platform.NO_DEADLINE);
        self.pushHeld(this);
    }

    /** Takes the lock for writing if nobody holds it or waits for it ({@code down_write_trylock}). */
    public boolean tryDownWrite() {
        Task self = platform.currentTask();
        platform.preemptionPoint();
        guard.lock();
        try {
            if (writer == null && readers == 0 && waiters.isEmpty()) {
                writer = self;
                self.pushHeld(this);
                return true;
            }
            return false;
        } finally {
            guard.unlock();
        }
    }

    /** Releases the write lock ({@code up_write}). */
    public void upWrite() {
        Task self = platform.currentTask();
        guard.lock();
        try {
            requireWriterLocked(self, "up_write");
            self.removeHeld(this);
            writer = null;
            grantHeadLocked();
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    /**
     * Turns the caller's write hold into a read hold without letting a writer in between
     * ({@code downgrade_write}); readers queued at the head are let in with it.
     */
    public void downgradeWrite() {
        Task self = platform.currentTask();
        guard.lock();
        try {
            requireWriterLocked(self, "downgrade_write");
            writer = null;
            readers = 1;
            grantHeadLocked();
        } finally {
            guard.unlock();
        }
        platform.preemptionPoint();
    }

    private void requireWriterLocked(Task self, String op) {
        if (writer != self) {
            throw new IllegalStateException(op + " of " + describe() + " by task " + self
                    + (writer == null ? ", but it is not write-locked" : ", but it is write-locked by task " + writer));
        }
    }

    /**
     * Hands the lock to the head of the queue if it can have it: a writer when the lock is free, or
     * every reader before the next writer when no writer holds it. Call with the guard held.
     */
    private void grantHeadLocked() {
        Waiter head = waiters.peekFirst();
        if (head == null || writer != null) {
            return;
        }
        if (head.mode == Waiter.EXCLUSIVE) {
            if (readers == 0) {
                waiters.pollFirst();
                queuedWriters--;
                writer = head.task;
                grantLocked(head);
            }
            return;
        }
        while ((head = waiters.peekFirst()) != null && head.mode == Waiter.SHARED) {
            waiters.pollFirst();
            readers++;
            grantLocked(head);
        }
    }

    /** The task holding the lock for write, or {@code null}. Advisory. */
    public Task writer() {
        guard.lock();
        try {
            return writer;
        } finally {
            guard.unlock();
        }
    }

    /** How many read holds are active. Advisory. */
    public int readers() {
        guard.lock();
        try {
            return readers;
        } finally {
            guard.unlock();
        }
    }

    /** Whether a writer is queued, which makes new readers wait. Advisory. */
    public boolean hasQueuedWriter() {
        guard.lock();
        try {
            return queuedWriters > 0;
        } finally {
            guard.unlock();
        }
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
