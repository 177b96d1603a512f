package dev.rescuer.sim;

import dev.rescuer.sim.strategy.RandomWalk;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Test helper: one program run under the simulator for each of a range of seeds. */
final class SeededRuns {

    private SeededRuns() {
    }

    /**
     * Runs {@code body} as the init task under a random walk for each seed {@code 0..seeds-1}; each run
     * must end DONE (a hang or a failure names its seed), then {@code check} runs.
     */
    static void forSeeds(String name, int seeds, BiConsumer<SimPlatform, Long> body, Runnable check) {
        try (CarrierPool pool = new CarrierPool(name)) {
            for (long seed = 0; seed < seeds; seed++) {
                SimPlatform sim = new SimPlatform(seed, new RandomWalk(seed), pool, 1_000_000);
                long s = seed;
                SimPlatform.Stop stop = sim.run("init", () -> {
                    body.accept(sim, s);
                    sim.stop(SimPlatform.StopKind.DONE, "done");
                });
                assertEquals(SimPlatform.StopKind.DONE, stop.kind(), "seed " + seed + ": " + stop.reason());
                check.run();
            }
        }
    }
}
