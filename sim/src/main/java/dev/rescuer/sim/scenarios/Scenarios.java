package dev.rescuer.sim.scenarios;

import dev.rescuer.sim.explore.Scenario;

import java.util.List;

/** The scenarios the CLI knows, in the order the demo runs them. */
public final class Scenarios {

    private Scenarios() {
    }

    /** Every scenario. */
    public static List<Scenario> all() {
        return List.of(new ReclaimRescuer());
    }

    /**
     * The scenario named {@code name}.
     *
     * @throws IllegalArgumentException naming the known scenarios
     */
    public static Scenario byName(String name) {
        for (Scenario s : all()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + name + "'; scenarios: "
                + String.join(", ", all().stream().map(Scenario::name).toList()));
    }
}
