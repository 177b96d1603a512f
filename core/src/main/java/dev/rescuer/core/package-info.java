/**
 * Rescuer's runtime. {@link dev.rescuer.core.RescuerSystem} wires one platform to one page allocator;
 * the layers are {@code platform}, {@code sync}, {@code mm} and, next, {@code wq}.
 */
package dev.rescuer.core;
