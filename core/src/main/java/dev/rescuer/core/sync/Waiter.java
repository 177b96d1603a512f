package dev.rescuer.core.sync;

import dev.rescuer.core.platform.Task;

/**
 * One task queued on a primitive. Primitives that hand ownership over directly set {@link #granted}
 * (with their guard held) before waking the task, so the woken task never has to compete again
 * (a {@link Mutex} or {@link RwSemaphore} writer is granted only after it asked for a hand-over).
 * A {@link WaitQueue} uses the flag for "woken and not yet asleep again".
 */
final class Waiter {
    static final int SHARED = 0;
    static final int EXCLUSIVE = 1;

    final Task task;
    final int mode;
    /** Written under the primitive's guard; read by the waiting task's condition without it. */
    volatile boolean granted;
    /** For a {@link WaitQueue}: how many wake-ups reached this waiter; written under the guard. */
    volatile int wakes;
    /**
     * For a {@link Mutex}, and a {@link RwSemaphore} writer first in line: a release woke this waiter
     * and gave it the word's {@code WAKING} role, which it has not yet given back. Written only under
     * the guard; a mutex waiter's condition reads it without the guard as a hint and re-reads it under
     * the guard, a rw-semaphore writer reads it only under the guard.
     */
    volatile boolean woken;
    /**
     * For a {@link Mutex}: the waiter is the queue's head, has asked for a hand-over and spins on the
     * owner instead of sleeping, so a release that hands the lock to it need not wake it. Written
     * only by the waiter's own task; read by the releaser, under the guard, after it set
     * {@link #granted} (the waiter clears this and then reads {@code granted}: of the two volatile
     * pairs at least one side sees the other's write).
     */
    volatile boolean spinning;
    /**
     * For a {@link RwSemaphore}: the {@link dev.rescuer.core.platform.Platform#nanoTime()} after which
     * this waiter, first in line, may ask for a hand-over ({@code waiter->timeout}). Written at
     * enqueue under the guard; read only under the guard.
     */
    long timeout;

    Waiter(Task task, int mode) {
        this.task = task;
        this.mode = mode;
    }

    boolean isGranted() {
        return granted;
    }
}
