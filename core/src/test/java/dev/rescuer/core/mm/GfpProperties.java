package dev.rescuer.core.mm;

import dev.rescuer.core.mm.Gfp.Modifier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every base with every set of modifiers: either a consistent value or a rejected contradiction. */
class GfpProperties {

    @Provide
    Arbitrary<Gfp> bases() {
        return Arbitraries.of(Gfp.KERNEL, Gfp.NOFS, Gfp.NOIO, Gfp.NOWAIT, Gfp.ATOMIC);
    }

    @Provide
    Arbitrary<Set<Modifier>> modifiers() {
        return Arbitraries.of(Modifier.class).set();
    }

    private static boolean contradictory(Gfp base, Set<Modifier> mods) {
        boolean nofail = mods.contains(Modifier.NOFAIL);
        return nofail && !base.mayDirectReclaim()
                || nofail && (mods.contains(Modifier.NORETRY) || mods.contains(Modifier.RETRY_MAYFAIL))
                || mods.contains(Modifier.MEMALLOC) && mods.contains(Modifier.NOMEMALLOC);
    }

    @Property(tries = 300)
    void combinationsAreBuiltOrRejectedExactlyWhenContradictory(@ForAll("bases") Gfp base, @ForAll("modifiers") Set<Modifier> mods) {
        Modifier[] arr = mods.toArray(new Modifier[0]);
        if (contradictory(base, mods)) {
            assertThrows(IllegalArgumentException.class, () -> base.with(arr));
            return;
        }
        Gfp g = base.with(arr);
        for (Modifier m : Modifier.values()) {
            assertEquals(mods.contains(m) || base.has(m), g.has(m), g + " has " + m);
            if (g.has(m)) {
                String s = g.toString();
                boolean spelled = s.contains("__GFP_" + m.name())
                        || m == Modifier.HIGH && s.startsWith("GFP_ATOMIC")
                        || m == Modifier.NOWARN && s.startsWith("GFP_NOWAIT");
                assertTrue(spelled, s + " spells " + m);
            }
        }
        assertEquals(base.mayDirectReclaim(), g.mayDirectReclaim());
        assertEquals(base.mayIo(), g.mayIo());
        assertEquals(base.mayFs(), g.mayFs());

        Gfp noio = g.scopedBy(MemallocScope.NOIO);
        assertFalse(noio.mayIo());
        assertFalse(noio.mayFs());
        assertEquals(g.mayDirectReclaim(), noio.mayDirectReclaim());
        Gfp nofs = g.scopedBy(MemallocScope.NOFS);
        assertFalse(nofs.mayFs());
        assertEquals(g.mayIo(), nofs.mayIo());
        for (Modifier m : Modifier.values()) {
            assertEquals(g.has(m), noio.has(m), "scopes keep modifiers");
            assertEquals(g.has(m), nofs.has(m), "scopes keep modifiers");
        }
        assertEquals(g, g.without(new Modifier[0]));
    }
}
