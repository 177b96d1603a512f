package dev.rescuer.sim.explore;

/** How one simulated run ended. */
public enum Outcome {
    /** Every scenario task finished and every invariant held. */
    COMPLETED,
    /** The run hung: a deadlock, a hung task, or a livelock. */
    HANG,
    /** A task threw, or an invariant broke. */
    FAILURE
}
