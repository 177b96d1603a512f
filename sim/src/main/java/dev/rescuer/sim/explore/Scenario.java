package dev.rescuer.sim.explore;

import java.util.List;

/**
 * A system under test for the explorer: it builds a Rescuer system on the simulator, starts tasks and
 * says what must hold. Variants differ only in configuration a user could choose (a queue flag, a
 * throttle implementation); whether a variant hangs must follow from the mechanisms, never from a
 * branch that asks which variant runs in order to hang.
 */
public interface Scenario {

    /** The name the CLI knows it by, for example {@code reclaim-rescuer}. */
    String name();

    /** One paragraph on what the scenario models. */
    String description();

    /** The variants, the first being the default. */
    List<Variant> variants();

    /**
     * PCT's {@code k}: about how many scheduling steps one run takes. A guess within a factor of two
     * is enough; the scenario tests check it against measured runs.
     */
    long estimatedSteps();

    /**
     * Builds the system and starts the scenario's tasks. Runs inside the simulation, in its first
     * task; the run is done once every task started with {@link ScenarioContext#spawn} has finished.
     */
    void setUp(ScenarioContext context, Variant variant);

    /** The variant named {@code name}. */
    default Variant variant(String name) {
        for (Variant v : variants()) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + name + "' of scenario " + name() + "; variants: "
                + String.join(", ", variants().stream().map(Variant::name).toList()));
    }
}
