package dev.rescuer.core.mm;

/**
 * An allocation failed in a context that allowed failure. The message says how many pages, the
 * requested and effective contexts, the task, the free count and watermarks, and why it gave up.
 */
public class PageAllocationException extends RuntimeException {

    public PageAllocationException(String message) {
        super(message);
    }
}
