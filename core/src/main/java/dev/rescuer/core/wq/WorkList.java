package dev.rescuer.core.wq;

/**
 * An intrusive doubly-linked list of work items: a pool's worklist, a pwq's inactive list or a
 * worker's scheduled list. O(1) append, removal and move, so that cancelling a pending item is cheap.
 * Guarded by the lock of {@link #pool}, the pool the list belongs to (asserted on every change).
 *
 * <p>The pool is recorded so that a task holding one pool's lock can tell whether an item's list is
 * guarded by that lock: an item being queued on another pool at the same moment may already sit on
 * that pool's list, and must then be left alone (the kernel gets the same certainty from keeping the
 * pwq and the queued state in one word, {@code work->data}).
 */
final class WorkList {
    /** The pool whose lock guards this list; a rescuer's scheduled list follows the pool it serves. */
    volatile WorkerPool pool;
    private Work head;
    private Work tail;

    WorkList(WorkerPool pool) {
        this.pool = pool;
    }

    boolean isEmpty() {
        return head == null;
    }


    Work first() {
        return head;
    }

    void append(Work w) {
        assert pool == null || pool.lock.isHeldByCurrentThread();
        if (w.list != null) {
            throw new IllegalStateException("work " + w.name() + " is already on a list");
        }
        w.list = this;
        w.prev = tail;
        w.next = null;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
    }

    void remove(Work w) {
        assert pool == null || pool.lock.isHeldByCurrentThread();
        if (w.list != this) {
            throw new IllegalStateException("work " + w.name() + " is not on this list");
        }
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.list = null;
    }

    Work pollFirst() {
        Work w = head;
        if (w != null) {
            remove(w);
        }
        return w;
    }
}
