/**
 * The validator: lockdep-style dependency tracking over the {@link dev.rescuer.core.platform.LockEvents}
 * core's primitives, page allocator and workqueues report, extended to waits on events (completions,
 * semaphores, wait queues, mempools, flushes, reclaim, a rw-semaphore's queued writer), so that one run
 * that did not hang still reports the cycle that could. {@link dev.rescuer.check.Validator} records;
 * {@link dev.rescuer.check.PotentialCycle} reports. See docs/VALIDATOR.md.
 */
package dev.rescuer.check;
