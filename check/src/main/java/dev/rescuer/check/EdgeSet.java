package dev.rescuer.check;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The edges already recorded out of one {@link LockClass}, as packed non-negative keys: a filter in
 * front of the validator's dependency map, so that an edge recorded before (nearly every edge, after
 * the first few operations) costs a hash and a few loads, and allocates nothing. lockdep asks the
 * same question of the class itself: {@code check_prev_add} walks {@code prev}'s
 * {@code locks_after} list for the next class before it adds a dependency; this is that list's
 * membership test, hashed.
 *
 * <p>An open-addressed table of longs (linear probing, at most half full), never changed once
 * published: {@link #add} copies it with the key added and installs the copy by compare-and-set,
 * retrying if another task installed one first. Keys are stored complemented, so that 0 marks an
 * empty slot.
 *
 * <p><b>Memory ordering.</b> {@code table} is volatile and set only by compare-and-set; a reader
 * sees some published table, whole (its elements were written before the release). A key added
 * concurrently may be missed: {@link #contains} then says {@code false} and the caller takes the
 * slow path, where the dependency map decides. The caller adds a key only after the edge is in the
 * map, so {@code true} never hides an edge not yet recorded.
 */
final class EdgeSet {

    private static final VarHandle TABLE;

    static {
        try {
            TABLE = MethodHandles.lookup().findVarHandle(EdgeSet.class, "table", long[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The published table, complemented keys, length a power of two; replaced only through {@code TABLE}. */
    private volatile long[] table = new long[8];

    /** Whether {@code key} (non-negative) has been added. */
    boolean contains(long key) {
        return contains(table, key);
    }

    private static boolean contains(long[] t, long key) {
        long stored = ~key;
        int mask = t.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long v = t[i];
            if (v == stored) {
                return true;
            }
            if (v == 0) {
                return false;
            }
        }
    }

    /** Adds {@code key} (non-negative); adding it again changes nothing. */
    void add(long key) {
        if (key < 0) {
            throw new IllegalArgumentException("negative edge key " + key);
        }
        while (true) {
            long[] t = table;
            if (contains(t, key)) { // in the table it would copy, so a failed compare-and-set looks again
                return;
            }
            int n = 0;
            for (long v : t) {
                if (v != 0) {
                    n++;
                }
            }
            long[] copy = new long[(n + 1) * 2 > t.length ? t.length * 2 : t.length];
            for (long v : t) {
                if (v != 0) {
                    insert(copy, ~v);
                }
            }
            insert(copy, key);
            if (TABLE.compareAndSet(this, t, copy)) {
                return;
            }
        }
    }

    private static void insert(long[] t, long key) {
        int mask = t.length - 1;
        int i = slot(key, mask);
        while (t[i] != 0) {
            i = (i + 1) & mask;
        }
        t[i] = ~key;
    }

    private static int slot(long key, int mask) {
        return (int) ((key * 0x9E3779B97F4A7C15L) >>> 40) & mask;
    }
}
