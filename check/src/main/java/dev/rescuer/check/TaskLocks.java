package dev.rescuer.check;

import dev.rescuer.core.platform.Primitive;

import java.util.Arrays;

/**
 * One task's state as the validator sees it: the classes it holds (lockdep's {@code held_locks}),
 * and the classes it acquired or waited on since its current context began (DEPT's view of what a
 * signal depends on). Kept in {@link dev.rescuer.core.platform.Task#lockdepData()}; only the task
 * itself reads or writes it, so nothing here is synchronized.
 */
final class TaskLocks {

    /** The most classes a context remembers; older entries are dropped first (see VALIDATOR.md). */
    static final int CONTEXT_LIMIT = 64;

    final Validator owner;

    // Held stack, oldest first: the primitive instance (to match releases), its class and mode.
    Primitive[] heldPrimitive = new Primitive[8];
    LockClass[] heldClass = new LockClass[8];
    int[] heldMode = new int[8];
    int heldCount;

    // The context: distinct (class, mode) pairs since the last boundary, oldest first.
    LockClass[] contextClass = new LockClass[8];
    int[] contextMode = new int[8];
    int contextCount;

    TaskLocks(Validator owner) {
        this.owner = owner;
    }

    void push(Primitive p, LockClass c, int mode) {
        if (heldCount == heldPrimitive.length) {
            int n = heldCount * 2;
            heldPrimitive = Arrays.copyOf(heldPrimitive, n);
            heldClass = Arrays.copyOf(heldClass, n);
            heldMode = Arrays.copyOf(heldMode, n);
        }
        heldPrimitive[heldCount] = p;
        heldClass[heldCount] = c;
        heldMode[heldCount] = mode;
        heldCount++;
    }

    /** Removes the most recent hold of {@code p}; a release of something never seen acquired is ignored. */
    void pop(Primitive p) {
        for (int i = heldCount - 1; i >= 0; i--) {
            if (heldPrimitive[i] == p) {
                int tail = heldCount - i - 1;
                System.arraycopy(heldPrimitive, i + 1, heldPrimitive, i, tail);
                System.arraycopy(heldClass, i + 1, heldClass, i, tail);
                System.arraycopy(heldMode, i + 1, heldMode, i, tail);
                heldCount--;
                heldPrimitive[heldCount] = null;
                heldClass[heldCount] = null;
                return;
            }
        }
    }

    /** Remembers that the context acquired or waited on {@code c} in {@code mode}. */
    void remember(LockClass c, int mode) {
        for (int i = contextCount - 1; i >= 0; i--) {
            if (contextClass[i] == c && contextMode[i] == mode) {
                return;
            }
        }
        if (contextCount == CONTEXT_LIMIT) {
            System.arraycopy(contextClass, 1, contextClass, 0, contextCount - 1);
            System.arraycopy(contextMode, 1, contextMode, 0, contextCount - 1);
            contextCount--;
        } else if (contextCount == contextClass.length) {
            int n = Math.min(CONTEXT_LIMIT, contextCount * 2);
            contextClass = Arrays.copyOf(contextClass, n);
            contextMode = Arrays.copyOf(contextMode, n);
        }
        contextClass[contextCount] = c;
        contextMode[contextCount] = mode;
        contextCount++;
    }

    void clearContext() {
        Arrays.fill(contextClass, 0, contextCount, null);
        contextCount = 0;
    }
}
