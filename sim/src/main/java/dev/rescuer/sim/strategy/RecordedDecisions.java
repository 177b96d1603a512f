package dev.rescuer.sim.strategy;

import java.util.Arrays;

/**
 * Replays a recorded list of decisions, and records the decisions of the strategy it wraps. A run
 * under {@code RecordedDecisions.replaying(list)} takes exactly the choices of the run that recorded
 * {@code list}, whatever strategy made them; past the list's end it reports the divergence.
 */
public final class RecordedDecisions implements Strategy {

    private final Strategy source;
    private int[] decisions;
    private int size;

    private RecordedDecisions(Strategy source, int[] decisions, int size) {
        this.source = source;
        this.decisions = decisions;
        this.size = size;
    }

    /** Records the decisions {@code source} takes. */
    public static RecordedDecisions recording(Strategy source) {
        return new RecordedDecisions(source, new int[1024], 0);
    }

    /** Replays {@code decisions}. */
    public static RecordedDecisions replaying(int[] decisions) {
        return new RecordedDecisions(null, decisions.clone(), 0);
    }

    /** The decisions recorded so far. */
    public int[] decisions() {
        return Arrays.copyOf(decisions, source == null ? decisions.length : size);
    }

    @Override
    public void taskCreated(long taskId) {
        if (source != null) {
            source.taskCreated(taskId);
        }
    }

    @Override
    public int pick(Choice choice) {
        if (source != null) {
            int c = source.pick(choice);
            if (size == decisions.length) {
                decisions = Arrays.copyOf(decisions, size * 2);
            }
            decisions[size++] = c;
            return c;
        }
        if (size >= decisions.length) {
            throw new IllegalStateException("replay diverged: the run needs decision " + (size + 1)
                    + " but only " + decisions.length + " were recorded");
        }
        int c = decisions[size++];
        if (c >= choice.count()) {
            throw new IllegalStateException("replay diverged at decision " + size + ": recorded choice " + c
                    + " but only " + choice.count() + " candidates");
        }
        return c;
    }

    @Override
    public String toString() {
        return source == null ? "replay(" + decisions.length + " decisions)" : source.toString();
    }
}
