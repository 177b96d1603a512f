package dev.rescuer.core.wq;

/**
 * What a queue's owner is told when one of its items throws ({@link WorkQueue#setFailureHandler}).
 *
 * <p>The handler runs in the task that ran the item (a worker, the rescuer or a BH context), right
 * after the item returned by throwing and before the run counts as finished: flushes of the item
 * or the queue return only after the handler has returned. No pool lock is held; on a
 * {@link WqFlag#BH} queue it runs in atomic context, as the item did, and must not sleep. Whatever
 * it throws is logged and dropped: the worker goes on with its next item. The item's failure is
 * logged and counted ({@link WorkqueueStats#failures()}) whether or not a handler is installed.
 */
@FunctionalInterface
public interface WorkFailureHandler {

    /**
     * {@code work} threw {@code failure} while running on this queue.
     *
     * @param work the item, as it was queued; it may already be queued again
     * @param failure what its body threw
     */
    void failed(Work work, Throwable failure);
}
