package dev.rescuer.core.wq;

import java.util.ArrayList;
import java.util.List;

/**
 * The workers of one pool that are executing an item, found by the item: the kernel's
 * {@code pool->busy_hash} with {@code worker->hentry}, and {@code find_worker_executing_work}.
 *
 * <p>Intrusive: each bucket chains workers through {@link Worker#hashNext}, so adding and removing
 * allocate nothing, and the bucket comes from the item's {@link Work#busyHashKey()}, fixed at its
 * first queueing from the pool's queueing count, so no identity hash code is computed (the first one
 * for an object installs it in the object's header, which cost about as much as the rest of the
 * lookup) and the bucket, like everything else, follows from the run's inputs. A worker is in at most
 * one busy hash at a time, since it executes at most one item.
 *
 * <p>Exact, not advisory: {@link #find} compares the worker's {@code currentWork} with the item, and
 * a pool runs a given item on at most one worker at a time (the collision rule of
 * {@link Worker#assignWork}). Bucket choice never shows: lookups are exact, and
 * every walk over all busy workers is either sorted ({@link WorkerPool#busyWorkersByName}) or
 * independent of order (the CPU-intensive tick checks each worker on its own).
 *
 * <p>Locking: guarded by the pool's lock, like the fields of the {@link Worker}s it chains; not
 * thread-safe on its own.
 */
final class BusyHash {

    /** The kernel's {@code BUSY_WORKER_HASH_ORDER} of 6. */
    static final int KEY_BITS = 6;
    static final int BUCKETS = 1 << KEY_BITS;

    private final Worker[] buckets = new Worker[BUCKETS];
    private int size;

    private static int bucket(Work work) {
        return work.busyHashKey();
    }

    /** Adds {@code worker}, whose {@code currentWork} is already {@code work} ({@code hash_add}). */
    void add(Work work, Worker worker) {
        assert worker.currentWork == work;
        int b = bucket(work);
        worker.hashNext = buckets[b];
        buckets[b] = worker;
        size++;
    }

    /** Removes {@code worker}, which was added for {@code work} and still has it as {@code currentWork}. */
    void remove(Work work, Worker worker) {
        int b = bucket(work);
        Worker prev = null;
        for (Worker w = buckets[b]; w != null; prev = w, w = w.hashNext) {
            if (w == worker) {
                if (prev == null) {
                    buckets[b] = w.hashNext;
                } else {
                    prev.hashNext = w.hashNext;
                }
                w.hashNext = null;
                size--;
                return;
            }
        }
        throw new IllegalStateException("worker " + worker.name + " is not in the busy hash for work " + work.name());
    }

    /** The worker executing {@code work} on this pool, or {@code null} ({@code find_worker_executing_work}). */
    Worker find(Work work) {
        for (Worker w = buckets[bucket(work)]; w != null; w = w.hashNext) {
            if (w.currentWork == work) {
                return w;
            }
        }
        return null;
    }

    /** Whether {@code work} is executing on this pool. */
    boolean contains(Work work) {
        return find(work) != null;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The busy workers, in no particular order. */
    List<Worker> workers() {
        List<Worker> out = new ArrayList<>(size);
        for (Worker head : buckets) {
            for (Worker w = head; w != null; w = w.hashNext) {
                out.add(w);
            }
        }
        return out;
    }
}
