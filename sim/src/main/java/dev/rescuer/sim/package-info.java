/**
 * The deterministic simulator: a {@code Platform} that runs core's unchanged code one task at a time
 * under a controlled scheduler with virtual time and fault injection, and an explorer that searches
 * schedules for hangs and replays them from a seed. Not built yet; the module exists so the layout is
 * final.
 */
package dev.rescuer.sim;
