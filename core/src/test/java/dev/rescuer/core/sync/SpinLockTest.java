package dev.rescuer.core.sync;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.sync.SyncTesting.assertMisuse;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SpinLock} (tracked, enters atomic context) and {@link RawSpinLock} (untracked guard). */
class SpinLockTest {

    private final Fixture f = new Fixture();
    private final SpinLock spin = new SpinLock(f.platform, "&pool->lock", "worker_pool_lock");

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void holdingASpinLockIsAtomicContext() {
        Task self = f.platform.currentTask();
        assertFalse(self.inAtomic());
        spin.lock();
        assertTrue(self.inAtomic());
        assertEquals(1, self.atomicDepth());
        assertSame(self, spin.owner());
        assertTrue(spin.isLocked());
        assertEquals(List.of(spin), self.heldPrimitives());
        spin.unlock();
        assertFalse(self.inAtomic());
        assertEquals(0, self.atomicDepth());
        assertNull(spin.owner());
        assertFalse(spin.isLocked());
        assertEquals(List.of(), self.heldPrimitives());
    }

    @Test
    void nestedSpinLocksNestAtomicContext() {
        SpinLock inner = new SpinLock(f.platform, "inner");
        Task self = f.platform.currentTask();
        spin.lock();
        inner.lock();
        assertEquals(2, self.atomicDepth());
        assertEquals(List.of(spin, inner), self.heldPrimitives());
        inner.unlock();
        assertTrue(self.inAtomic(), "still holding the outer lock");
        spin.unlock();
        assertFalse(self.inAtomic());
    }

    @Test
    void tryLockEntersAtomicContextOnlyOnSuccess() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        AtomicBoolean got = new AtomicBoolean();
        AtomicInteger depth = new AtomicInteger(-1);
        a.run(() -> {
            got.set(spin.tryLock());
            depth.set(a.task().atomicDepth());
        });
        assertTrue(got.get());
        assertEquals(1, depth.get());
        b.run(() -> {
            got.set(spin.tryLock());
            depth.set(b.task().atomicDepth());
        });
        assertFalse(got.get(), "tryLock of a held spin lock fails");
        assertEquals(0, depth.get(), "a failed tryLock must leave atomic context again");
        assertFalse(b.task().holds(spin));
        a.run(spin::unlock);
        assertFalse(spin.isLocked());
    }

    @Test
    void aSecondTaskSpinsUntilTheHolderUnlocks() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        AtomicBoolean aStillHolds = new AtomicBoolean();
        AtomicBoolean started = new AtomicBoolean();
        a.run(spin::lock);
        Op bOp = b.submit(() -> {
            started.set(true);
            spin.lock();
            aStillHolds.set(spin.owner() != b.task() || a.task().holds(spin));
            spin.unlock();
        });
        Poll.until("B starts", started::get);
        a.run(spin::unlock);
        awaitOk(bOp);
        assertFalse(aStillHolds.get(), "B got the spin lock while A still held it");
        assertFalse(b.task().inAtomic());
    }

    @Test
    void recursiveLockIsReportedInsteadOfSpinningForever() {
        DrivenTask a = f.task("A");
        a.run(spin::lock);
        assertMisuse(IllegalStateException.class, () -> a.run(spin::lock), spin, a.task(), "recursive spin_lock");
        assertSame(a.task(), spin.owner());
        assertEquals(1, a.task().atomicDepth(), "the refused lock must not nest atomic context");
        assertEquals(List.of(spin), a.task().heldPrimitives());
        a.run(spin::unlock);
        assertEquals(0, a.task().atomicDepth());
    }

    @Test
    void unlockByANonOwnerIsRefused() {
        DrivenTask a = f.task("A");
        DrivenTask b = f.task("B");
        assertMisuse(IllegalStateException.class, () -> b.run(spin::unlock), spin, b.task(), "not locked");
        a.run(spin::lock);
        assertMisuse(IllegalStateException.class, () -> b.run(spin::unlock), spin, b.task(),
                "held by task " + a.task());
        assertSame(a.task(), spin.owner());
        assertEquals(0, b.task().atomicDepth(), "the refused unlock must not touch the caller's atomic depth");
        a.run(spin::unlock);
    }

    @Test
    void rawSpinLockIsAPlainUntrackedLock() {
        RawSpinLock raw = new RawSpinLock();
        Task self = f.platform.currentTask();
        assertFalse(raw.isLocked());
        raw.lock();
        assertTrue(raw.isLocked());
        assertFalse(raw.tryLock(), "not reentrant");
        assertFalse(self.inAtomic(), "a raw spin lock is not tracked");
        assertEquals(List.of(), self.heldPrimitives());
        raw.unlock();
        assertFalse(raw.isLocked());
        assertTrue(raw.tryLock());
        raw.unlock();
    }
}
