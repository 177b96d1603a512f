package dev.rescuer.core.sync;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RawSpinLockTest {

    @Test
    void theHolderIsKnownExactlyToItself() throws InterruptedException {
        RawSpinLock lock = new RawSpinLock();
        assertFalse(lock.isHeldByCurrentThread());
        lock.lock();
        assertTrue(lock.isHeldByCurrentThread());
        AtomicBoolean seenByOther = new AtomicBoolean(true);
        Thread other = new Thread(() -> seenByOther.set(lock.isHeldByCurrentThread()));
        other.start();
        other.join();
        assertFalse(seenByOther.get(), "another thread must not think it holds the lock");
        lock.unlock();
        assertFalse(lock.isHeldByCurrentThread());
        assertTrue(lock.tryLock());
        assertTrue(lock.isHeldByCurrentThread());
        lock.unlock();
    }

    @Test
    void unwindingReleasesOnlyALockTheThreadHolds() throws InterruptedException {
        RawSpinLock lock = new RawSpinLock();
        assertFalse(lock.unlockIfHeldByCurrentThread(), "not held: nothing to release");
        lock.lock();
        AtomicBoolean releasedByOther = new AtomicBoolean(true);
        Thread other = new Thread(() -> releasedByOther.set(lock.unlockIfHeldByCurrentThread()));
        other.start();
        other.join();
        assertFalse(releasedByOther.get(), "a thread that does not hold the lock must not release it");
        assertTrue(lock.isLocked());
        assertTrue(lock.unlockIfHeldByCurrentThread());
        assertFalse(lock.isLocked());
    }

    @Test
    void unlockByANonHolderFailsItsAssertion() {
        RawSpinLock lock = new RawSpinLock();
        boolean assertionsOn = false;
        assert assertionsOn = true;
        assumeTrue(assertionsOn, "the holder check on unlock is an assertion");
        assertThrows(AssertionError.class, lock::unlock);
    }
}
