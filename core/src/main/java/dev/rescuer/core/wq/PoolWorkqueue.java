package dev.rescuer.core.wq;

/**
 * The link between one workqueue and one pool (the kernel's {@code pool_workqueue}): it enforces the
 * queue's {@code maxActive} on that pool with an inactive list, and counts items in flight per flush
 * color so that {@link WorkQueue#flush()} can wait for exactly the items queued before it.
 * All fields are guarded by the pool's lock.
 */
final class PoolWorkqueue {

    static final int NR_COLORS = 16;
    static final int NO_COLOR = -1;

    final WorkQueue wq;
    final WorkerPool pool;

    int nrActive;
    final WorkList inactive;
    final int[] nrInFlight = new int[NR_COLORS];
    int workColor;
    int flushColor = NO_COLOR;
    /** Whether this pwq is on its queue's mayday list (guarded by the queue's mayday lock). */
    boolean onMayday;

    PoolWorkqueue(WorkQueue wq, WorkerPool pool) {
        this.wq = wq;
        this.pool = pool;
        this.inactive = new WorkList(pool);
    }

    int inFlight() {
        int n = 0;
        for (int c : nrInFlight) {
            n += c;
        }
        return n;
    }

    boolean isIdle() {
        return inFlight() == 0 && inactive.isEmpty() && nrActive == 0;
    }

    @Override
    public String toString() {
        return "pwq(" + wq.name() + " on " + pool.name() + ")";
    }
}
