package dev.rescuer.check;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-class filter of recorded edges: exact membership, through growth and concurrent adds. */
class EdgeSetTest {

    @Test
    void holdsExactlyWhatWasAddedThroughGrowth() {
        EdgeSet s = new EdgeSet();
        assertFalse(s.contains(0));
        for (long k = 0; k < 1000; k++) {
            long key = k << 8 | (k & 0x3F); // the validator's shape: a class id and mode bits
            s.add(key);
            s.add(key); // again: no change
            assertTrue(s.contains(key));
        }
        for (long k = 0; k < 1000; k++) {
            assertTrue(s.contains(k << 8 | (k & 0x3F)), "key " + k);
            assertFalse(s.contains(k << 8 | ((k + 1) & 0x3F)), "never added: " + k);
        }
        assertFalse(s.contains(Long.MAX_VALUE));
    }

    @Test
    void aNegativeKeyIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EdgeSet().add(-1));
        assertEquals("negative edge key -1", e.getMessage());
    }

    @Test
    void concurrentAddsLoseNothing() throws InterruptedException {
        EdgeSet s = new EdgeSet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long base = t * 10_000L;
            threads.add(new Thread(() -> {
                for (long k = 0; k < 300; k++) {
                    s.add(base + k);
                    s.add(k); // shared keys, added by every thread
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread th : threads) {
            th.join();
        }
        for (int t = 0; t < 4; t++) {
            for (long k = 0; k < 300; k++) {
                assertTrue(s.contains(t * 10_000L + k), "thread " + t + " key " + k);
            }
        }
    }
}
