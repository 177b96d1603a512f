package dev.rescuer.check;

import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An interruptible acquisition that is interrupted, and a timed one that times out, leave nothing
 * held in the validator: a later lock taken by the same task does not depend on the one it never got.
 * Without the release on the failure path, t1 would be recorded taking B while holding A, and t2's
 * B-then-A would close a cycle that no schedule can hang on.
 */
class FailedAcquisitionValidatorTest extends RealThreadsFixture {

    /** Holds {@code hold} in a task of its own until the returned completion is completed. */
    private Completion holdInAnotherTask(Runnable hold, Runnable release) {
        Completion taken = new Completion(platform, "taken", "taken");
        Completion done = new Completion(platform, "release", "release");
        platform.startThread("holder", () -> {
            hold.run();
            taken.complete();
            done.waitFor();
            release.run();
        });
        assertTrue(taken.waitFor(Duration.ofSeconds(20)), "the holder took the lock"); // timed: not a dependency
        return done;
    }

    @Test
    void anInterruptedMutexAcquisitionIsReleasedForTheValidator() {
        Mutex a = new Mutex(platform, "a0", "A");
        Mutex b = new Mutex(platform, "b0", "B");
        Completion release = holdInAnotherTask(a::lock, a::unlock);
        AtomicBoolean interrupted = new AtomicBoolean();
        run("t1", () -> {
            platform.interrupt(platform.currentTask());
            try {
                a.lockInterruptible();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
            b.lock();
            b.unlock();
        });
        assertTrue(interrupted.get());
        release.complete();
        run("t2", () -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        assertEquals(0, validator.potentialCycles().size(), validator::report);
    }

    @Test
    void interruptedAndTimedOutRwSemaphoreAcquisitionsAreReleasedForTheValidator() {
        RwSemaphore a = new RwSemaphore(platform, "a0", "A");
        Mutex b = new Mutex(platform, "b0", "B");
        Completion release = holdInAnotherTask(a::downWrite, a::upWrite);
        AtomicBoolean gotNothing = new AtomicBoolean();
        run("t1", () -> {
            platform.interrupt(platform.currentTask());
            try {
                a.downReadInterruptible();
            } catch (InterruptedException e) {
                gotNothing.set(!a.tryDownWrite(Duration.ofMillis(1)));
            }
            b.lock();
            b.unlock();
        });
        assertTrue(gotNothing.get());
        release.complete();
        run("t2", () -> { b.lock(); a.downWrite(); a.upWrite(); b.unlock(); });
        assertFalse(validator.report().contains("circular"), validator::report);
        assertEquals(0, validator.potentialCycles().size(), validator::report);
    }
}
