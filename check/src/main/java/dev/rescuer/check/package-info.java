/**
 * The validator: lockdep-style dependency tracking over the events core's primitives emit, extended to
 * waits on events (completions, semaphores, flushes, reclaim, a rw-semaphore's queued writer), so that
 * one run that did not hang still reports the cycle that could. Not built yet; the module exists so
 * the layout is final.
 */
package dev.rescuer.check;
