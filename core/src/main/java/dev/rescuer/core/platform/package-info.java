/**
 * The platform: the only way core blocks, wakes, starts threads, reads time and sets timers, and the
 * per-task records ({@link dev.rescuer.core.platform.Task}) that every layer reads and reports. See
 * {@link dev.rescuer.core.platform.Platform} for the contract a simulator implements.
 */
package dev.rescuer.core.platform;
