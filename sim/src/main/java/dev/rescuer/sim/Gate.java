package dev.rescuer.sim;

import java.util.concurrent.locks.LockSupport;

/**
 * The baton's landing place on one JVM thread: a binary permit the thread waits on until the
 * scheduler grants it. The volatile permit also orders the scheduler state the granter wrote before
 * the receiver reads it.
 */
final class Gate {

    private volatile Thread thread;
    private volatile boolean granted;

    /** Binds the gate to the thread that will wait on it. */
    void bind(Thread t) {
        this.thread = t;
    }

    /** The bound thread. */
    Thread thread() {
        return thread;
    }

    /** Lets the bound thread run. */
    void grant() {
        granted = true;
        LockSupport.unpark(thread);
    }

    /** Waits until granted, then consumes the grant. Uninterruptible. */
    void await() {
        while (!granted) {
            LockSupport.park(this);
        }
        granted = false;
    }


}
