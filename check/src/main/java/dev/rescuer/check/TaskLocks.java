package dev.rescuer.check;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.wq.Work;

import java.util.Arrays;

/**
 * One task's state as the validator sees it: the classes it holds (lockdep's {@code held_locks}),
 * and the classes it acquired or waited on since its current context began (DEPT's view of what a
 * signal depends on), and the handed-on events it acts for now (its ownership windows, innermost
 * last, each with the event's context as it stood at the take-over). Kept in {@link dev.rescuer.core.platform.Task#lockdepData()}; only the task
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
    long[] heldSeq = new long[8];
    int heldCount;

    // The context: distinct (class, mode) pairs since the last boundary, oldest first.
    LockClass[] contextClass = new LockClass[8];
    int[] contextMode = new int[8];
    long[] contextSeq = new long[8]; // when each was last acquired or waited on
    int contextCount;

    // Events this task requested (DEPT's dept_request_event) and the sequence number at the request.
    private Primitive[] requested = new Primitive[2];
    private long[] requestedAt = new long[2];
    private int requestCount;

    // Ownership windows (LockEvents.takeOver .. handOn), innermost last: the event, the sequence
    // number at the take-over (later context entries are the window's), the event's context then.
    HandedOnEvent[] owned = new HandedOnEvent[2];
    private long[] ownedSince = new long[2];
    EventContext[] ownedContext = new EventContext[2];
    int ownedCount;

    // The last event this task logged as a signaller of, and the item it was running then (or
    // null): the signal log has that signaller, or no room for it, for good, so a repeat is skipped.
    Primitive lastSignalled;
    Work lastSignalledAs;

    // The event class whose signal, without a request, last recorded an edge to every entry of the
    // context as it stands (null once an entry is added or the context is cleared): a repeat would
    // record the same edges again.
    LockClass signalledWithThisContext;

    // Debug stats of the two shortcuts Validator.signal takes for a repeated signal: signals that
    // skipped the signal log (same event and item as the last one), and signals without a request
    // that skipped their context's edges (signalledWithThisContext). Plain fields of the task's own
    // state, so the signal path pays no shared write; a test reads them after joining the task.
    long signalLogsSkipped;
    long signalContextsSkipped;

    /** Counts this task's acquisitions and waits: orders them against its requests. */
    private long seq;

    TaskLocks(Validator owner) {
        this.owner = owner;
    }

    void push(Primitive p, LockClass c, int mode) {
        if (heldCount == heldPrimitive.length) {
            int n = heldCount * 2;
            heldPrimitive = Arrays.copyOf(heldPrimitive, n);
            heldClass = Arrays.copyOf(heldClass, n);
            heldMode = Arrays.copyOf(heldMode, n);
            heldSeq = Arrays.copyOf(heldSeq, n);
        }
        heldPrimitive[heldCount] = p;
        heldClass[heldCount] = c;
        heldMode[heldCount] = mode;
        heldSeq[heldCount] = ++seq;
        heldCount++;
    }

    /** Whether this task holds {@code p} now (the instance, not its class). */
    boolean holds(Primitive p) {
        for (int i = 0; i < heldCount; i++) {
            if (heldPrimitive[i] == p) {
                return true;
            }
        }
        return false;
    }

    /** Removes the most recent hold of {@code p}; a release of something never seen acquired is ignored. */
    void pop(Primitive p) {
        for (int i = heldCount - 1; i >= 0; i--) {
            if (heldPrimitive[i] == p) {
                int tail = heldCount - i - 1;
                if (tail > 0) { // released out of order: close the gap
                    System.arraycopy(heldPrimitive, i + 1, heldPrimitive, i, tail);
                    System.arraycopy(heldClass, i + 1, heldClass, i, tail);
                    System.arraycopy(heldMode, i + 1, heldMode, i, tail);
                    System.arraycopy(heldSeq, i + 1, heldSeq, i, tail);
                }
                heldCount--;
                heldPrimitive[heldCount] = null;
                heldClass[heldCount] = null;
                return;
            }
        }
    }

    /** Remembers that the context acquired or waited on {@code c} in {@code mode}. */
    void remember(LockClass c, int mode) {
        long now = ++seq;
        for (int i = contextCount - 1; i >= 0; i--) {
            if (contextClass[i] == c && contextMode[i] == mode) {
                contextSeq[i] = now;
                return;
            }
        }
        signalledWithThisContext = null; // a new entry: the next signal has an edge to record
        if (contextCount == CONTEXT_LIMIT) {
            System.arraycopy(contextClass, 1, contextClass, 0, contextCount - 1);
            System.arraycopy(contextMode, 1, contextMode, 0, contextCount - 1);
            System.arraycopy(contextSeq, 1, contextSeq, 0, contextCount - 1);
            contextCount--;
        } else if (contextCount == contextClass.length) {
            int n = Math.min(CONTEXT_LIMIT, contextCount * 2);
            contextClass = Arrays.copyOf(contextClass, n);
            contextMode = Arrays.copyOf(contextMode, n);
            contextSeq = Arrays.copyOf(contextSeq, n);
        }
        contextClass[contextCount] = c;
        contextMode[contextCount] = mode;
        contextSeq[contextCount] = now;
        contextCount++;
    }

    /** Records that this task requested {@code event} now; a repeated request moves the point. */
    void request(Primitive event) {
        for (int i = 0; i < requestCount; i++) {
            if (requested[i] == event) {
                requestedAt[i] = seq;
                return;
            }
        }
        if (requestCount == requested.length) {
            requested = Arrays.copyOf(requested, requestCount * 2);
            requestedAt = Arrays.copyOf(requestedAt, requestCount * 2);
        }
        requested[requestCount] = event;
        requestedAt[requestCount] = seq;
        requestCount++;
    }

    /**
     * Takes this task's request of {@code event}: the sequence number at the request (only later
     * acquisitions and waits are the signal's context), or {@code -1} if it made none.
     */
    long takeRequest(Primitive event) {
        for (int i = 0; i < requestCount; i++) {
            if (requested[i] == event) {
                long at = requestedAt[i];
                requestCount--;
                requested[i] = requested[requestCount];
                requestedAt[i] = requestedAt[requestCount];
                requested[requestCount] = null;
                return at;
            }
        }
        return -1;
    }

    /** Opens a window: from now on this task acts for {@code event}, which carried {@code context} so far. */
    void openWindow(HandedOnEvent event, EventContext context) {
        if (ownedCount == owned.length) {
            owned = Arrays.copyOf(owned, ownedCount * 2);
            ownedSince = Arrays.copyOf(ownedSince, ownedCount * 2);
            ownedContext = Arrays.copyOf(ownedContext, ownedCount * 2);
        }
        owned[ownedCount] = event;
        ownedSince[ownedCount] = seq;
        ownedContext[ownedCount] = context;
        ownedCount++;
    }

    /** The innermost open window on {@code event}, or {@code -1}. */
    int window(HandedOnEvent event) {
        for (int i = ownedCount - 1; i >= 0; i--) {
            if (owned[i] == event) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Closes window {@code i} and returns what the task acquired or waited on in it (context entries
     * touched since its take-over), attributed to {@code owner}; empty if nothing. What the task
     * held from before the take-over is not the window's, even if still held.
     */
    EventContext closeWindow(int i, String owner) {
        long since = ownedSince[i];
        EventContext out = EventContext.EMPTY;
        for (int k = 0; k < contextCount; k++) {
            if (contextSeq[k] > since) {
                out = out.plus(contextClass[k], contextMode[k], owner);
            }
        }
        int tail = ownedCount - i - 1;
        System.arraycopy(owned, i + 1, owned, i, tail);
        System.arraycopy(ownedSince, i + 1, ownedSince, i, tail);
        System.arraycopy(ownedContext, i + 1, ownedContext, i, tail);
        ownedCount--;
        owned[ownedCount] = null;
        ownedContext[ownedCount] = null;
        return out;
    }

    void clearContext() {
        signalledWithThisContext = null;
        Arrays.fill(contextClass, 0, contextCount, null);
        contextCount = 0;
        Arrays.fill(requested, 0, requestCount, null);
        requestCount = 0;
    }
}
