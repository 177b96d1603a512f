package dev.rescuer.core.platform;

/**
 * An event a task can wait for whose completion passes from one owner to another before it happens:
 * a bio, which a device has in flight, then an end-io hands to a work item ({@code verity_end_io}
 * queueing {@code verity_work}), or a target holds until a copy ends. The structure records who
 * completes it now, where it hands itself on; a primitive that waits for it names it as its owner
 * ({@code WaitQueue.owner()}, {@code Completion.owner()}), and reports follow {@link #completer()}
 * from there to the task that would have to act.
 *
 * <p>The runtime never reads it to decide anything: it is for reports only, read while the world is
 * frozen (the simulator) or racily (a real platform's debug dump).
 */
public interface HandedOnEvent {

    /**
     * Who completes the event now: a work item ({@code dev.rescuer.core.wq.Work}) it was deferred to,
     * a {@link Task}, another {@code HandedOnEvent} it waits for in turn, any other object for
     * something that is no task and does not block (a device with the I/O in flight), or
     * {@code null} once the event has happened or before it was handed to anyone. For the last two,
     * {@link #describe()} says where the event stands: reports end the chain there.
     */
    Object completer();

    /** The event, for reports, with how it stands ({@code "bio(READ sda 0+8, kcopyd read), end-io deferred to"}). */
    String describe();
}
