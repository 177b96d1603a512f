package dev.rescuer.core.sync;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An acquisition refused as misuse (a recursive one that would deadlock) after the validator was told
 * of the attempt leaves the validator's view of the caller's holds as it was: the attempt is reported
 * released, as a waiter that gives up is, so the validator does not go on believing in a hold that
 * never was.
 */
class RefusedAcquisitionEventsTest {

    /** The validator's view: holds per lock, counted from the events. */
    private static final class Holds implements LockEvents {
        final Map<Primitive, Integer> held = new HashMap<>();

        @Override public synchronized void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock) {
            held.merge(lock, 1, Integer::sum);
        }
        @Override public synchronized void release(Task task, Primitive lock) {
            held.merge(lock, -1, Integer::sum);
        }
        @Override public void waitOn(Task task, Primitive event) { }
        @Override public void signal(Task task, Primitive event) { }
        @Override public void contextBoundary(Task task) { }

        synchronized int of(Primitive lock) {
            return held.getOrDefault(lock, 0);
        }
    }

    private final RealPlatform platform = new RealPlatform();
    private final Holds holds = new Holds();

    RefusedAcquisitionEventsTest() {
        platform.setLockEvents(holds);
    }

    @AfterEach
    void tearDown() {
        platform.close();
    }

    @Test
    void aRecursiveMutexLockIsReportedReleased() {
        Mutex m = new Mutex(platform, "m");
        m.lock();
        assertThrows(IllegalStateException.class, m::lock);
        assertEquals(1, holds.of(m), "the validator sees the one real hold");
        m.unlock();
        assertEquals(0, holds.of(m));
    }

    @Test
    void aDownWriteWhileHoldingForReadIsReportedReleased() {
        RwSemaphore rw = new RwSemaphore(platform, "rw");
        rw.downRead();
        assertThrows(IllegalStateException.class, rw::downWrite);
        assertEquals(1, holds.of(rw));
        rw.upRead();
        assertEquals(0, holds.of(rw));
    }

    @Test
    void aDownReadWhileHoldingForWriteIsReportedReleased() {
        RwSemaphore rw = new RwSemaphore(platform, "rw");
        rw.downWrite();
        assertThrows(IllegalStateException.class, rw::downRead);
        assertEquals(1, holds.of(rw));
        rw.upWrite();
        assertEquals(0, holds.of(rw));
    }
}
