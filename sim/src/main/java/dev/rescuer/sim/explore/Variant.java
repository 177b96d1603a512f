package dev.rescuer.sim.explore;

/**
 * One configuration of a scenario.
 *
 * @param name the name the CLI knows it by
 * @param description what is configured differently, in a sentence
 * @param expected what exploring it should find, for the demo's table and the scenario tests
 */
public record Variant(String name, String description, Expectation expected) {

    /** What a variant is expected to do. */
    public enum Expectation {
        /** Some schedule hangs. */
        HANGS,
        /** Every schedule completes. */
        COMPLETES
    }
}
