package dev.rescuer.core.wq;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The pool's intrusive busy hash: exact lookups, also for items that share a bucket. */
class BusyHashTest {

    /** Three items that share a bucket: their first queueings' seeds are equal modulo 64. */
    private static List<Work> sameBucket() {
        List<Work> items = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Work w = new Work("w" + i, () -> { });
            w.countQueueing(0, 5 + 64L * i);
            items.add(w);
        }
        assertEquals(items.get(0).busyHashKey(), items.get(2).busyHashKey());
        return items;
    }

    @Test
    void theBucketIsFixedByTheFirstQueueingAndDeterministic() {
        Work w = new Work("w", () -> { });
        assertEquals(0, w.queueSeq());
        w.countQueueing(3, 7);
        assertEquals(7, w.busyHashKey());
        assertEquals(3, w.color());
        assertEquals(1, w.queueSeq());
        w.countQueueing(15, 40); // a later queueing (perhaps while it runs, in the busy hash under 7)
        assertEquals(7, w.busyHashKey(), "the bucket must not move while the item may be in a busy hash");
        assertEquals(15, w.color());
        assertEquals(2, w.queueSeq());
        w.countQueueing(0, 41);
        assertEquals(0, w.color());
        assertEquals(3, w.queueSeq());
        Work other = new Work("other", () -> { });
        other.countQueueing(0, 7 + 64);
        assertEquals(w.busyHashKey(), other.busyHashKey(), "the bucket follows from the seed alone");
    }

    private static Worker running(Work work, int id) {
        Worker w = new Worker(null, id, "kworker/test:" + id, false);
        w.currentWork = work;
        return w;
    }

    @Test
    void findsEachWorkerOfOneBucketAndForgetsRemovedOnes() {
        List<Work> items = sameBucket();
        BusyHash h = new BusyHash();
        assertTrue(h.isEmpty());
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Worker w = running(items.get(i), i);
            h.add(items.get(i), w);
            workers.add(w);
        }
        for (int i = 0; i < items.size(); i++) {
            assertSame(workers.get(i), h.find(items.get(i)));
        }
        assertEquals(new HashSet<>(workers), new HashSet<>(h.workers()));

        h.remove(items.get(1), workers.get(1)); // the middle of the chain
        assertNull(h.find(items.get(1)));
        assertFalse(h.contains(items.get(1)));
        assertSame(workers.get(0), h.find(items.get(0)));
        assertSame(workers.get(2), h.find(items.get(2)));

        h.remove(items.get(2), workers.get(2)); // the head (the last added)
        h.remove(items.get(0), workers.get(0));
        assertTrue(h.isEmpty());
        assertTrue(h.workers().isEmpty());
        assertNull(h.find(items.get(0)));
    }

    @Test
    void anItemNotRunningIsNotFoundEvenInAnOccupiedBucket() {
        List<Work> items = sameBucket();
        BusyHash h = new BusyHash();
        h.add(items.get(0), running(items.get(0), 0));
        assertNull(h.find(items.get(1)), "same bucket, different item");
        assertTrue(h.contains(items.get(0)));
    }

    @Test
    void removingAWorkerThatIsNotThereIsAnError() {
        List<Work> items = sameBucket();
        BusyHash h = new BusyHash();
        h.add(items.get(0), running(items.get(0), 0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.remove(items.get(1), running(items.get(1), 1)));
        assertTrue(e.getMessage().contains("kworker/test:1"), e.getMessage());
    }
}
