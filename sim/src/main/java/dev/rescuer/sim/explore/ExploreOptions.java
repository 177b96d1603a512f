package dev.rescuer.sim.explore;

/**
 * How to explore.
 *
 * @param strategy random walk or PCT
 * @param depth PCT's bug depth {@code d}, 1..15 (ignored by the random walk, but part of the seed)
 * @param schedules how many runs at most
 * @param seed the exploration's base seed; schedule {@code i} runs with a seed derived from it
 * @param parallel explorer threads; results do not depend on it
 * @param livelockBound scheduling steps without progress after which a run is a livelock
 * @param stopAtFirstHang stop once a hang (or failure) is found, rather than run every schedule
 */
public record ExploreOptions(StrategyKind strategy, int depth, int schedules, long seed, int parallel, long livelockBound,
                             boolean stopAtFirstHang) {

    /** Default PCT depth. */
    public static final int DEFAULT_DEPTH = 3;
    /** Default number of schedules. */
    public static final int DEFAULT_SCHEDULES = 100;
    /** Default livelock bound. */
    public static final long DEFAULT_LIVELOCK_BOUND = 200_000;

    /** Validates every field, naming the one that is wrong. */
    public ExploreOptions {
        if (strategy == null) {
            throw new IllegalArgumentException("strategy: required (random or pct)");
        }
        if (depth < 1 || depth > 15) {
            throw new IllegalArgumentException("depth: must be in 1..15, got " + depth);
        }
        if (schedules < 1) {
            throw new IllegalArgumentException("schedules: must be at least 1, got " + schedules);
        }
        if (parallel < 1 || parallel > 256) {
            throw new IllegalArgumentException("parallel: must be in 1..256, got " + parallel);
        }
        if (livelockBound < 1) {
            throw new IllegalArgumentException("livelock bound: must be at least 1, got " + livelockBound);
        }
    }

    /** The defaults: PCT, depth 3, 100 schedules, seed 1, one thread, stop at the first hang. */
    public static ExploreOptions defaults() {
        return new ExploreOptions(StrategyKind.PCT, DEFAULT_DEPTH, DEFAULT_SCHEDULES, 1, 1, DEFAULT_LIVELOCK_BOUND, true);
    }

    /** These options with another strategy. */
    public ExploreOptions withStrategy(StrategyKind s) {
        return new ExploreOptions(s, depth, schedules, seed, parallel, livelockBound, stopAtFirstHang);
    }

    /** These options with another schedule budget. */
    public ExploreOptions withSchedules(int n) {
        return new ExploreOptions(strategy, depth, n, seed, parallel, livelockBound, stopAtFirstHang);
    }

    /** These options with another base seed. */
    public ExploreOptions withSeed(long s) {
        return new ExploreOptions(strategy, depth, schedules, s, parallel, livelockBound, stopAtFirstHang);
    }

    /** These options with another thread count. */
    public ExploreOptions withParallel(int p) {
        return new ExploreOptions(strategy, depth, schedules, seed, p, livelockBound, stopAtFirstHang);
    }

    /** These options with another depth. */
    public ExploreOptions withDepth(int d) {
        return new ExploreOptions(strategy, d, schedules, seed, parallel, livelockBound, stopAtFirstHang);
    }

    /** These options, running every schedule even after a hang. */
    public ExploreOptions runningAll() {
        return new ExploreOptions(strategy, depth, schedules, seed, parallel, livelockBound, false);
    }
}
