/**
 * Concurrency-managed workqueues with the Linux kernel's semantics ({@code kernel/workqueue.c}).
 *
 * <p>Start from {@link dev.rescuer.core.wq.Workqueues} (one per {@link dev.rescuer.core.RescuerSystem}):
 * it owns the shared worker pools (per CPU, normal and high priority; unbound; BH) and creates
 * {@link dev.rescuer.core.wq.WorkQueue}s, which run {@link dev.rescuer.core.wq.Work} items (and
 * {@link dev.rescuer.core.wq.DelayedWork} after a delay) on those pools. Everything blocks, wakes,
 * starts threads and reads time through the system's {@link dev.rescuer.core.platform.Platform}, so
 * the same code runs on JVM threads and under the simulator.
 *
 * <p>Guarantees, each the kernel's unless its class says otherwise:
 * <ul>
 *   <li><b>Non-reentrancy:</b> an item is pending at most once, and never runs concurrently with
 *       itself when always queued on one queue; stores before a successful {@code queue} are
 *       visible to the run it causes.
 *   <li><b>Forward progress under memory pressure:</b> a {@link dev.rescuer.core.wq.WqFlag#MEM_RECLAIM}
 *       queue owns a rescuer thread, created with the queue, that runs its items on any pool that
 *       cannot create a worker (the mayday protocol); one item at a time per rescuer, so items that
 *       wait for each other need separate rescuers. {@link dev.rescuer.core.wq.RescuerDomain}
 *       shares one rescuer among queues that never wait for each other.
 *   <li><b>Concurrency management:</b> a per-CPU pool keeps one worker running while it has work;
 *       a worker that sleeps in a platform primitive (or is seen blocked outside it) lets another start.
 *   <li><b>Flush, drain, cancel, destroy:</b> {@code flush} waits for what was queued before it,
 *       {@code drain} until the queue is empty, {@code cancelSync} until the item is neither pending
 *       nor running, {@code destroy} drains and retires the queue; {@code destroy(Duration)} and
 *       {@code Workqueues.close(Duration)} bound the wait and throw
 *       {@link dev.rescuer.core.wq.WorkqueueTimeoutException} with the workqueue dump.
 *   <li><b>Refused, never dropped:</b> work that cannot run (destroyed or draining queue, closing
 *       subsystem) is refused at the call with {@link java.lang.IllegalStateException} (from the
 *       {@link java.util.concurrent.Executor} methods, {@link java.util.concurrent.RejectedExecutionException}).
 *   <li><b>Failures:</b> an item that throws is logged, counted and reported to the queue's
 *       {@link dev.rescuer.core.wq.WorkFailureHandler}; the worker goes on. An item that leaves a
 *       lock, atomic context or memalloc scope behind is reported as the kernel's leak check does.
 *   <li><b>Java's interfaces:</b> a {@code WorkQueue} is an {@link java.util.concurrent.Executor};
 *       {@link dev.rescuer.core.wq.WorkQueue#asExecutorService()} gives an
 *       {@link java.util.concurrent.ExecutorService} whose futures cancel pending items
 *       ({@code cancel_work}) and never interrupt running ones.
 * </ul>
 *
 * <p>Diagnostics: {@link dev.rescuer.core.wq.Workqueues#dump()} ({@code show_workqueue_state}),
 * {@link dev.rescuer.core.wq.WorkqueueStats}, the watchdog's {@link dev.rescuer.core.wq.LockupReport}s
 * and JFR events ({@link dev.rescuer.core.wq.WqEvents}).
 */
package dev.rescuer.core.wq;
