/**
 * Sleeping locks with kernel semantics: {@link dev.rescuer.core.sync.Mutex},
 * {@link dev.rescuer.core.sync.RwSemaphore} (writer-preferring), {@link dev.rescuer.core.sync.Semaphore},
 * {@link dev.rescuer.core.sync.Completion}, {@link dev.rescuer.core.sync.WaitQueue} and the non-sleeping
 * {@link dev.rescuer.core.sync.SpinLock}. Each has a name and a lockdep-style class, records holders and
 * waiters in task records, blocks only through the platform, and reports sleeping in atomic context.
 *
 * <p>Besides the kernel's operations they have interruptible variants ({@code lockInterruptible},
 * {@code downReadInterruptible}, {@code downWriteInterruptible}, {@code downInterruptible},
 * {@code waitForInterruptible}, {@code waitEventInterruptible}), which end with
 * {@link java.lang.InterruptedException} on {@link dev.rescuer.core.platform.Platform#interrupt} (or
 * {@code Thread.interrupt} on a real platform), and timed ones; a waiter that gives up leaves the
 * queue and lets in whoever it held back. {@link dev.rescuer.core.sync.Mutex#asLock()} and
 * {@link dev.rescuer.core.sync.RwSemaphore#asReadWriteLock()} adapt them to
 * {@link java.util.concurrent.locks.Lock} and {@link java.util.concurrent.locks.ReadWriteLock}, with
 * conditions on a {@code WaitQueue}.
 */
package dev.rescuer.core.sync;
