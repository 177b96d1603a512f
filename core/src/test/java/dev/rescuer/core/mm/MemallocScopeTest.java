package dev.rescuer.core.mm;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MemallocScope}: per-task, nesting, NOIO implies NOFS, misuse detected without side effects. */
class MemallocScopeTest {

    private static final int NOIO = MemallocScope.NOIO;
    private static final int NOFS = MemallocScope.NOFS;

    private RealPlatform platform;

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
    }

    @AfterEach
    void tearDown() {
        platform.close();
    }

    @Test
    void noioInsideNofsRestoresOnlyItsOwnBit() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        try (MemallocScope nofs = MemallocScope.nofs(platform)) {
            assertEquals(NOFS, self.memallocFlags());
            assertSame(Gfp.NOFS, MemallocScope.currentContext(platform, Gfp.KERNEL));
            try (MemallocScope noio = MemallocScope.noio(platform)) {
                assertEquals(NOFS | NOIO, self.memallocFlags());
                assertEquals(2, self.memallocScopeDepth());
                assertSame(Gfp.NOIO, MemallocScope.currentContext(platform, Gfp.KERNEL));
            }
            assertEquals(NOFS, self.memallocFlags(), "closing the inner noio must leave the outer nofs in force");
            assertSame(Gfp.NOFS, MemallocScope.currentContext(platform, Gfp.KERNEL));
        }
        assertEquals(0, self.memallocFlags());
        assertEquals(0, self.memallocScopeDepth());
        assertSame(Gfp.KERNEL, MemallocScope.currentContext(platform, Gfp.KERNEL));
    }

    @Test
    void nofsInsideNoioLeavesNoioInForce() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        try (MemallocScope noio = MemallocScope.noio(platform)) {
            try (MemallocScope nofs = MemallocScope.nofs(platform)) {
                assertEquals(NOIO | NOFS, self.memallocFlags());
            }
            assertEquals(NOIO, self.memallocFlags());
            assertSame(Gfp.NOIO, MemallocScope.currentContext(platform, Gfp.KERNEL),
                    "the outer noio still masks IO and FS");
        }
        assertEquals(0, self.memallocFlags());
    }

    @Test
    void theSameScopeNestedKeepsTheOuterOneInForce() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        try (MemallocScope outer = MemallocScope.noio(platform)) {
            try (MemallocScope inner = MemallocScope.noio(platform)) {
                assertEquals(NOIO, self.memallocFlags());
            }
            assertEquals(NOIO, self.memallocFlags(), "the inner scope saved the bit as already set and restores it so");
        }
        assertEquals(0, self.memallocFlags());
    }

    @Test
    void noioImpliesNofsInTheEffectiveContext() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        try (MemallocScope noio = MemallocScope.noio(platform)) {
            assertEquals(NOIO, self.memallocFlags(), "only the NOIO bit is set on the task");
            Gfp eff = MemallocScope.currentContext(platform, Gfp.KERNEL);
            assertTrue(!eff.mayIo() && !eff.mayFs(), eff.toString());
            assertSame(Gfp.NOIO, MemallocScope.currentContext(platform, Gfp.NOFS));
            assertSame(Gfp.ATOMIC, MemallocScope.currentContext(platform, Gfp.ATOMIC));
        }
    }

    @Test
    void noreclaimSetsPfMemalloc() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        try (MemallocScope s = MemallocScope.noreclaim(platform)) {
            assertEquals(MemallocScope.NORECLAIM, self.memallocFlags());
            assertSame(Gfp.KERNEL, MemallocScope.currentContext(platform, Gfp.KERNEL));
        }
        assertEquals(0, self.memallocFlags());
        assertEquals("none", MemallocScope.describeFlags(0));
        assertEquals("NOIO|NOFS|NORECLAIM", MemallocScope.describeFlags(NOIO | NOFS | MemallocScope.NORECLAIM));
    }

    @Test
    void outOfOrderCloseOfOneKindThrowsAndLeavesTheFlagsUnchanged() {
        // memalloc_nofs_restore of the outer save while an inner nofs save is open would clear NOFS
        // under the inner scope (and the inner restore would set it again for good): refused.
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        MemallocScope outer = MemallocScope.nofs(platform);
        MemallocScope inner = MemallocScope.nofs(platform);
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("closed out of order: 2 memalloc_nofs scopes are open"), e.getMessage());
        assertEquals(NOFS, self.memallocFlags());
        assertEquals(2, self.memallocScopeDepth());
        inner.close();
        assertEquals(NOFS, self.memallocFlags(), "the outer scope is still open");
        outer.close(); // the refused close did not count: the outer scope can still close properly
        assertEquals(0, self.memallocFlags());
        assertEquals(0, self.memallocScopeDepth());
    }

    @Test
    void scopesOfDifferentKindsMayOverlap() {
        // include/linux/sched/mm.h: each save/restore pair saves and restores only its own bit, so
        // nofs = memalloc_nofs_save(); noio = memalloc_noio_save(); memalloc_nofs_restore(nofs);
        // memalloc_noio_restore(noio); is correct.
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        MemallocScope nofs = MemallocScope.nofs(platform);
        MemallocScope noio = MemallocScope.noio(platform);
        nofs.close();
        assertEquals(NOIO, self.memallocFlags());
        assertEquals(1, self.memallocScopeDepth());
        assertEquals(Gfp.NOIO, MemallocScope.currentContext(platform, Gfp.KERNEL));
        noio.close();
        assertEquals(0, self.memallocFlags());
        assertEquals(0, self.memallocScopeDepth());
        assertEquals(0, self.memallocBitDepths());
    }

    @Test
    void doubleCloseThrowsAndLeavesTheFlagsUnchanged() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        MemallocScope first = MemallocScope.nofs(platform);
        first.close();
        MemallocScope second = MemallocScope.noio(platform); // same depth as the closed one
        IllegalStateException e = assertThrows(IllegalStateException.class, first::close);
        assertTrue(e.getMessage().contains("closed twice"), e.getMessage());
        assertEquals(NOIO, self.memallocFlags());
        assertEquals(1, self.memallocScopeDepth());
        second.close();
        assertEquals(0, self.memallocFlags());
        assertThrows(IllegalStateException.class, second::close);
        assertEquals(0, self.memallocScopeDepth());
    }

    @Test
    void closeFromAnotherTaskThrowsAndLeavesTheFlagsUnchanged() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        MemallocScope scope = MemallocScope.noio(platform);
        try (DrivenTask other = new DrivenTask(platform, "other", new AtomicLong())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> other.run(scope::close));
            assertTrue(e.getMessage().contains("belong to one task"), e.getMessage());
            assertTrue(e.getMessage().contains("other"), e.getMessage());
            AtomicInteger otherFlags = new AtomicInteger(-1);
            other.run(() -> otherFlags.set(platform.currentTask().memallocFlags()));
            assertEquals(0, otherFlags.get(), "the other task never had the scope");
        }
        assertEquals(NOIO, self.memallocFlags());
        assertEquals(1, self.memallocScopeDepth());
        scope.close();
        assertEquals(0, self.memallocFlags());
    }

    @Test
    void scopesDoNotFollowWorkToAnotherTask() {
        Task self = platform.currentTask(); // per test: lifecycle methods may run on another thread
        AtomicInteger childFlags = new AtomicInteger(-1);
        AtomicReference<Gfp> childContext = new AtomicReference<>();
        try (MemallocScope noio = MemallocScope.noio(platform)) {
            Task child = platform.startThread("child", () -> {
                childFlags.set(platform.currentTask().memallocFlags());
                childContext.set(MemallocScope.currentContext(platform, Gfp.KERNEL));
            });
            platform.join(child);
            assertEquals(NOIO, self.memallocFlags());
        }
        assertEquals(0, childFlags.get(), "a thread started inside a noio scope has no scope flags");
        assertSame(Gfp.KERNEL, childContext.get());
    }
}
