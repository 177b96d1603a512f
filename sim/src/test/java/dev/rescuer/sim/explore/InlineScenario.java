package dev.rescuer.sim.explore;

import dev.rescuer.sim.CarrierPool;

import java.util.List;
import java.util.function.BiConsumer;

/**
 * A scenario written inline in a test: one variant, expected to complete, and a body that sets the run
 * up. Tests run it schedule by schedule through {@link #run} and look at each {@link RunResult}.
 */
record InlineScenario(String name, long estimatedSteps, BiConsumer<ScenarioContext, Variant> body) implements Scenario {

    static final Variant ONLY = new Variant("only", "the test's setup", Variant.Expectation.COMPLETES);

    @Override
    public String description() {
        return "test scenario " + name;
    }

    @Override
    public List<Variant> variants() {
        return List.of(ONLY);
    }

    @Override
    public void setUp(ScenarioContext context, Variant variant) {
        body.accept(context, variant);
    }

    /** Runs schedule {@code index} of this scenario under {@code kind}, from base seed 1. */
    RunResult run(StrategyKind kind, long index, CarrierPool pool, long livelockBound) {
        RunSeed seed = RunSeed.forSchedule(this, ONLY, kind, ExploreOptions.DEFAULT_DEPTH, 1, index);
        return new Explorer(List.of(this)).run(this, ONLY, seed, index, pool, livelockBound);
    }
}
