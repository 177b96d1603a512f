package dev.rescuer.core.platform;

/**
 * Starting a thread through {@link Platform#startThread} failed: the thread does not exist and no
 * charge for it remains. The message names the thread and the reason (out of pages, a refused
 * native thread, an injected fault).
 */
public class ThreadStartException extends RuntimeException {

    public ThreadStartException(String message) {
        super(message);
    }

    public ThreadStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
