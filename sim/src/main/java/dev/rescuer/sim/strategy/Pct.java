package dev.rescuer.sim.strategy;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).
 *
 * <p>Every task gets a distinct random priority when it is created, above {@code depth}; the
 * highest-priority candidate always runs. At {@code depth - 1} change points, drawn uniformly from
 * steps {@code 1..k}, the task that reached the scheduling point drops to priority {@code depth - i}
 * for the i-th change point, below every initial priority. A bug of depth {@code d} (one that needs
 * {@code d} ordering constraints) is then found by one run with probability at least
 * {@code 1 / (n k^(d-1))} for {@code n} tasks, far better than a random walk's odds for deep bugs.
 *
 * <p>Tasks appear during a run, so priorities are drawn as they do: a random 62-bit value above
 * {@code depth}, which is distinct with overwhelming probability and made distinct by the task id
 * when not.
 */
public final class Pct implements Strategy {

    private final SplittableRandom random;
    private final int depth;
    private final long[] changePoints;
    private int nextChange;
    private final Map<Long, Long> priorities = new HashMap<>();

    /**
     * A PCT strategy.
     *
     * @param seed the seed of the priorities and change points
     * @param depth the bug depth {@code d} to aim at, at least 1
     * @param steps {@code k}, the expected number of scheduling steps of a run, at least 1
     */
    public Pct(long seed, int depth, long steps) {
        if (depth < 1) {
            throw new IllegalArgumentException("PCT depth must be >= 1, got " + depth);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("PCT step estimate must be >= 1, got " + steps);
        }
        this.random = new SplittableRandom(seed);
        this.depth = depth;
        this.changePoints = new long[depth - 1];
        for (int i = 0; i < changePoints.length; i++) {
            changePoints[i] = 1 + random.nextLong(steps);
        }
        Arrays.sort(changePoints);
    }

    @Override
    public void taskCreated(long taskId) {
        long p = depth + 1 + (random.nextLong() >>> 2);
        priorities.put(taskId, p);
    }

    @Override
    public int pick(Choice choice) {
        long step = choice.step();
        while (nextChange < changePoints.length && changePoints[nextChange] <= step) {
            if (changePoints[nextChange] == step && choice.current() >= 0) {
                priorities.put(choice.current(), (long) (depth - 1 - nextChange));
            }
            nextChange++;
        }
        int best = 0;
        long bestPriority = Long.MIN_VALUE;
        for (int i = 0; i < choice.count(); i++) {
            long p = priorities.getOrDefault(choice.id(i), 0L);
            if (p > bestPriority) {
                bestPriority = p;
                best = i;
            }
        }
        return best;
    }

    @Override
    public String toString() {
        return "pct(d=" + depth + ")";
    }
}
