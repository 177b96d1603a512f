package dev.rescuer.sim.strategy;

/**
 * Decides, at each scheduling step, which candidate runs (asked also when there is only one, so that
 * it can count steps). A strategy instance
 * serves one run; all its randomness comes from the seed it was made with, so a run replays exactly.
 */
public interface Strategy {

    /** A task (or the timer context) came into being; ids arrive in increasing order. */
    default void taskCreated(long taskId) {
    }

    /**
     * Picks one candidate.
     *
     * @return an index in {@code [0, choice.count())}
     */
    int pick(Choice choice);
}
