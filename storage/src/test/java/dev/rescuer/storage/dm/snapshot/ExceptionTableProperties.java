package dev.rescuer.storage.dm.snapshot;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exception table against a plain map: merging consecutive chunks never changes a lookup. */
class ExceptionTableProperties {

    @Property(tries = 300)
    void everyInsertedChunkMapsToItsCowChunkAndNothingElseIsMapped(
            @ForAll @Size(max = 60) List<@IntRange(min = 0, max = 40) Integer> oldChunks,
            @ForAll @IntRange(min = 0, max = 3) int newChunkStyle) {
        ExceptionTable t = new ExceptionTable();
        Map<Long, Long> model = new HashMap<>();
        long next = 100;
        for (int c : oldChunks) {
            long oldChunk = c;
            // styles: COW chunks in insertion order (merges runs written in order), reversed, or scattered
            long newChunk = switch (newChunkStyle) {
                case 0 -> next++;
                case 1 -> 1000 - next++;
                case 2 -> oldChunk + 500;
                default -> (next++ * 7) % 997 + 2000;
            };
            if (model.containsKey(oldChunk)) {
                assertThrows(IllegalStateException.class, () -> t.insert(oldChunk, newChunk));
                continue;
            }
            t.insert(oldChunk, newChunk);
            model.put(oldChunk, newChunk);
        }
        for (long c = -1; c <= 42; c++) {
            DmException e = t.lookup(c);
            if (model.containsKey(c)) {
                assertTrue(e != null && e.covers(c));
                assertEquals(model.get(c), e.remap(c), "chunk " + c);
            } else {
                assertNull(e, "chunk " + c + " has no exception");
            }
        }
        assertEquals(model.size(), t.chunks());
        assertTrue(t.entries() <= model.size());
        if (newChunkStyle == 2 && !model.isEmpty()) {
            // old and new both consecutive: every run of chunks is one entry
            long runs = model.keySet().stream().filter(k -> !model.containsKey(k - 1)).count();
            assertTrue(t.entries() >= runs);
        }
    }
}
