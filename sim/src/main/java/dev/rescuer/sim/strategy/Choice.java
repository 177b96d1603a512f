package dev.rescuer.sim.strategy;

/**
 * One scheduling step as a strategy sees it: the candidates that can run, as task ids in ascending
 * order (the timer context is one of them when a timer is due), the step number and the task that
 * reached the scheduling point. The strategy is asked at every step, also when there is only one
 * candidate, so that step counts (PCT's change points) match the simulator's. The simulator reuses one instance; a strategy must not keep
 * it.
 */
public final class Choice {

    private long[] ids = new long[16];
    private int count;
    private long step;
    private long current;

    /** The candidates' array, grown to hold at least {@code capacity}; for the simulator. */
    public long[] ids(int capacity) {
        if (ids.length < capacity) {
            ids = new long[Math.max(capacity, ids.length * 2)];
        }
        return ids;
    }

    /** Sets the decision's shape; for the simulator. */
    public void set(long step, int count, long current) {
        this.step = step;
        this.count = count;
        this.current = current;
    }

    /** How many candidates there are; at least one. */
    public int count() {
        return count;
    }

    /** The task id of candidate {@code i}. */
    public long id(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException("candidate " + i + " of " + count);
        }
        return ids[i];
    }

    /** The step's number in the run, from 1, counting every step. */
    public long step() {
        return step;
    }

    /** The task at the scheduling point, or -1 at the start of a run. */
    public long current() {
        return current;
    }
}
