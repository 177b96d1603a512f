package dev.rescuer.sim.strategy;

import java.util.SplittableRandom;

/** Picks a candidate uniformly at random at every decision. */
public final class RandomWalk implements Strategy {

    private final SplittableRandom random;

    /** A random walk drawing from {@code seed}. */
    public RandomWalk(long seed) {
        this.random = new SplittableRandom(seed);
    }

    @Override
    public int pick(Choice choice) {
        int n = choice.count();
        return n == 1 ? 0 : random.nextInt(n);
    }

    @Override
    public String toString() {
        return "random";
    }
}
