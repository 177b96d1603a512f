package dev.rescuer.sim.explore;

import dev.rescuer.sim.strategy.Pct;
import dev.rescuer.sim.strategy.RandomWalk;
import dev.rescuer.sim.strategy.Strategy;

import java.util.Locale;

/** The exploration strategies the explorer and the CLI offer. */
public enum StrategyKind {
    /** {@link RandomWalk}. */
    RANDOM,
    /** {@link Pct}. */
    PCT;

    /** A fresh strategy for one run. */
    public Strategy create(long seed, int depth, long estimatedSteps) {
        return this == RANDOM ? new RandomWalk(seed) : new Pct(seed, depth, estimatedSteps);
    }

    /** The CLI name: {@code random} or {@code pct}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The kind named {@code name} on the command line.
     *
     * @throws IllegalArgumentException naming the valid choices
     */
    public static StrategyKind parse(String name) {
        for (StrategyKind k : values()) {
            if (k.cliName().equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown strategy '" + name + "'; strategies: random, pct");
    }
}
