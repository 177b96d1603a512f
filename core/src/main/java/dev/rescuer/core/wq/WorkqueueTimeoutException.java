package dev.rescuer.core.wq;

/**
 * A bounded {@link Workqueues#close(java.time.Duration) close} or
 * {@link WorkQueue#destroy(java.time.Duration) destroy} ran out of time. The message says what did
 * not finish and carries {@link Workqueues#dump()}: the items still queued or running, on which
 * workers, and the state of their pools.
 */
public final class WorkqueueTimeoutException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** An exception with {@code message}, which should include the dump. */
    public WorkqueueTimeoutException(String message) {
        super(message);
    }
}
