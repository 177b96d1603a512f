/**
 * Sleeping locks with kernel semantics: {@link dev.rescuer.core.sync.Mutex},
 * {@link dev.rescuer.core.sync.RwSemaphore} (writer-preferring), {@link dev.rescuer.core.sync.Semaphore},
 * {@link dev.rescuer.core.sync.Completion}, {@link dev.rescuer.core.sync.WaitQueue} and the non-sleeping
 * {@link dev.rescuer.core.sync.SpinLock}. Each has a name and a lockdep-style class, records holders and
 * waiters in task records, blocks only through the platform, and reports sleeping in atomic context.
 */
package dev.rescuer.core.sync;
