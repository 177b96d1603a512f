package dev.rescuer.storage.dm.snapshot;

import java.util.Map;
import java.util.TreeMap;

/**
 * The table of completed exceptions of one snapshot ({@code struct dm_exception_table},
 * {@code s->complete}). As in the kernel's {@code dm_insert_exception}, an exception whose origin
 * and COW chunks both continue an existing one (just after it or just before it) is folded into it by
 * raising its consecutive count, so a run of chunks copied in order costs one entry. Not thread-safe:
 * the owner's lock ({@code s->lock}) guards it.
 *
 * <p>Invariants: entries never overlap in origin chunks; every origin chunk inserted maps to the COW
 * chunk it was inserted with.
 */
public final class ExceptionTable {

    /** Entries by first origin chunk. */
    private final TreeMap<Long, DmException> byOld = new TreeMap<>();

    /** The exception covering origin chunk {@code chunk}, or {@code null} ({@code dm_lookup_exception}). */
    public DmException lookup(long chunk) {
        Map.Entry<Long, DmException> e = byOld.floorEntry(chunk);
        return e != null && e.getValue().covers(chunk) ? e.getValue() : null;
    }

    /**
     * Inserts the mapping of one origin chunk ({@code dm_insert_exception}), merging it into a
     * neighbour when both chunk numbers continue it.
     *
     * @throws IllegalStateException if the chunk already has an exception
     */
    public void insert(long oldChunk, long newChunk) {
        if (lookup(oldChunk) != null) {
            throw new IllegalStateException("chunk " + oldChunk + " already has an exception");
        }
        Map.Entry<Long, DmException> below = byOld.floorEntry(oldChunk);
        DmException next = byOld.get(oldChunk + 1);
        if (below != null) {
            DmException b = below.getValue();
            if (b.oldChunk() + b.consecutive() + 1 == oldChunk && b.newChunk() + b.consecutive() + 1 == newChunk) {
                byOld.put(b.oldChunk(), new DmException(b.oldChunk(), b.newChunk(), b.consecutive() + 1));
                return;
            }
        }
        if (next != null && next.newChunk() == newChunk + 1) {
            byOld.remove(next.oldChunk());
            byOld.put(oldChunk, new DmException(oldChunk, newChunk, next.consecutive() + 1));
            return;
        }
        byOld.put(oldChunk, DmException.of(oldChunk, newChunk));
    }

    /** The number of entries (after merging). */
    public int entries() {
        return byOld.size();
    }

    /** The number of origin chunks that have an exception. */
    public long chunks() {
        long n = 0;
        for (DmException e : byOld.values()) {
            n += e.consecutive() + 1L;
        }
        return n;
    }
}
