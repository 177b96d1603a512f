package dev.rescuer.core.mm;

import dev.rescuer.core.mm.Gfp.Modifier;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Gfp}: the base contexts' predicates, the kernel spelling, scope masking and rejected combinations. */
class GfpTest {

    private static void assertPredicates(Gfp gfp, boolean reclaim, boolean io, boolean fs, boolean kswapd) {
        assertEquals(reclaim, gfp.mayDirectReclaim(), gfp + " mayDirectReclaim");
        assertEquals(io, gfp.mayIo(), gfp + " mayIo");
        assertEquals(fs, gfp.mayFs(), gfp + " mayFs");
        assertEquals(kswapd, gfp.mayWakeKswapd(), gfp + " mayWakeKswapd");
    }

    @Test
    void basesHaveTheKernelsPredicates() {
        assertPredicates(Gfp.KERNEL, true, true, true, true);
        assertPredicates(Gfp.NOFS, true, true, false, true);
        assertPredicates(Gfp.NOIO, true, false, false, true);
        assertPredicates(Gfp.NOWAIT, false, false, false, true);
        assertPredicates(Gfp.ATOMIC, false, false, false, true);
        assertTrue(Gfp.ATOMIC.has(Modifier.HIGH), "GFP_ATOMIC is __GFP_HIGH");
        assertFalse(Gfp.NOWAIT.has(Modifier.HIGH));
        assertTrue(Gfp.NOWAIT.has(Modifier.NOWARN), "GFP_NOWAIT includes __GFP_NOWARN");
        for (Modifier m : Modifier.values()) {
            assertFalse(Gfp.KERNEL.has(m), "GFP_KERNEL has no " + m);
        }
    }

    @Test
    void toStringUsesTheKernelsSpelling() {
        assertEquals("GFP_KERNEL", Gfp.KERNEL.toString());
        assertEquals("GFP_NOFS", Gfp.NOFS.toString());
        assertEquals("GFP_NOIO", Gfp.NOIO.toString());
        assertEquals("GFP_NOWAIT", Gfp.NOWAIT.toString());
        assertEquals("GFP_ATOMIC", Gfp.ATOMIC.toString());
        assertEquals("GFP_NOFS|__GFP_NOFAIL", Gfp.NOFS.with(Modifier.NOFAIL).toString());
        assertEquals("GFP_KERNEL|__GFP_HIGH|__GFP_NOWARN", Gfp.KERNEL.with(Modifier.NOWARN, Modifier.HIGH).toString());
        assertEquals("GFP_NOIO|__GFP_MEMALLOC", Gfp.NOIO.with(Modifier.MEMALLOC).toString());
        assertEquals("GFP_KERNEL|__GFP_NORETRY|__GFP_NOMEMALLOC", Gfp.KERNEL.with(Modifier.NOMEMALLOC, Modifier.NORETRY).toString());
        assertEquals("GFP_ATOMIC|__GFP_NOWARN", Gfp.ATOMIC.with(Modifier.NOWARN).toString());
        assertEquals("GFP_KERNEL|__GFP_RETRY_MAYFAIL", Gfp.KERNEL.with(Modifier.RETRY_MAYFAIL).toString());
        assertEquals("__GFP_KSWAPD_RECLAIM", Gfp.NOWAIT.without(Modifier.NOWARN).toString());
    }

    @Test
    void withAndWithoutAreValuesAndReturnTheBasesWhenTheyMatch() {
        Gfp nofail = Gfp.KERNEL.with(Modifier.NOFAIL);
        assertTrue(nofail.has(Modifier.NOFAIL));
        assertFalse(Gfp.KERNEL.has(Modifier.NOFAIL), "Gfp is immutable");
        assertSame(Gfp.KERNEL, nofail.without(Modifier.NOFAIL));
        assertSame(Gfp.KERNEL, Gfp.KERNEL.without(Modifier.HIGH));
        assertSame(Gfp.ATOMIC, Gfp.ATOMIC.with(Modifier.HIGH));
        assertEquals(Gfp.KERNEL.with(Modifier.HIGH), Gfp.KERNEL.with(Modifier.HIGH));
        assertEquals(Gfp.KERNEL.with(Modifier.HIGH).hashCode(), Gfp.KERNEL.with(Modifier.HIGH).hashCode());
        assertNotEquals(Gfp.KERNEL, Gfp.NOFS);
        assertNotEquals(Gfp.NOWAIT, Gfp.ATOMIC);
    }

    @Test
    void scopedByMasksIoAndFs() {
        assertSame(Gfp.NOIO, Gfp.KERNEL.scopedBy(MemallocScope.NOIO), "NOIO clears IO and FS");
        assertSame(Gfp.NOFS, Gfp.KERNEL.scopedBy(MemallocScope.NOFS), "NOFS clears FS");
        assertSame(Gfp.NOIO, Gfp.NOFS.scopedBy(MemallocScope.NOIO));
        assertSame(Gfp.NOIO, Gfp.KERNEL.scopedBy(MemallocScope.NOIO | MemallocScope.NOFS));
        assertSame(Gfp.NOIO, Gfp.NOIO.scopedBy(MemallocScope.NOFS), "a scope never adds permissions");
        assertSame(Gfp.KERNEL, Gfp.KERNEL.scopedBy(0));
        assertSame(Gfp.KERNEL, Gfp.KERNEL.scopedBy(MemallocScope.NORECLAIM), "NORECLAIM does not mask the gfp");
        assertSame(Gfp.ATOMIC, Gfp.ATOMIC.scopedBy(MemallocScope.NOIO));
        Gfp scoped = Gfp.KERNEL.with(Modifier.NOFAIL, Modifier.HIGH).scopedBy(MemallocScope.NOIO);
        assertEquals("GFP_NOIO|__GFP_HIGH|__GFP_NOFAIL", scoped.toString(), "modifiers survive the mask");
        assertTrue(scoped.mayDirectReclaim());
        assertTrue(scoped.mayWakeKswapd());
    }

    @Test
    void contradictoryCombinationsAreRejectedWithAnExplanation() {
        IllegalArgumentException atomicNofail = assertThrows(IllegalArgumentException.class, () -> Gfp.ATOMIC.with(Modifier.NOFAIL));
        assertTrue(atomicNofail.getMessage().contains("__GFP_NOFAIL needs a context that may sleep"), atomicNofail.getMessage());
        assertTrue(atomicNofail.getMessage().contains("GFP_ATOMIC"), atomicNofail.getMessage());

        IllegalArgumentException nowaitNofail = assertThrows(IllegalArgumentException.class, () -> Gfp.NOWAIT.with(Modifier.NOFAIL));
        assertTrue(nowaitNofail.getMessage().contains("GFP_NOWAIT"), nowaitNofail.getMessage());

        IllegalArgumentException noretry = assertThrows(IllegalArgumentException.class,
                () -> Gfp.KERNEL.with(Modifier.NOFAIL, Modifier.NORETRY));
        assertEquals("__GFP_NOFAIL contradicts __GFP_NORETRY", noretry.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gfp.KERNEL.with(Modifier.NORETRY).with(Modifier.NOFAIL),
                "the check applies however the combination is reached");

        IllegalArgumentException mayfail = assertThrows(IllegalArgumentException.class,
                () -> Gfp.NOFS.with(Modifier.NOFAIL, Modifier.RETRY_MAYFAIL));
        assertEquals("__GFP_NOFAIL contradicts __GFP_RETRY_MAYFAIL", mayfail.getMessage());

        IllegalArgumentException memalloc = assertThrows(IllegalArgumentException.class,
                () -> Gfp.KERNEL.with(Modifier.MEMALLOC, Modifier.NOMEMALLOC));
        assertEquals("__GFP_MEMALLOC contradicts __GFP_NOMEMALLOC", memalloc.getMessage());
    }
}
