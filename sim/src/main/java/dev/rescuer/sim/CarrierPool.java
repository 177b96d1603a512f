package dev.rescuer.sim;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;

/**
 * The JVM threads simulated tasks run on. A run starts dozens of tasks and an explorer runs thousands
 * of runs, so threads are reused: a carrier runs one task to its exit (or tear-down), then returns here.
 * A pool serves one run at a time per explorer thread; close it when done to let its threads end.
 */
public final class CarrierPool implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("dev.rescuer.sim");

    private final String name;
    private final ArrayDeque<Carrier> idle = new ArrayDeque<>();
    private int created;
    private boolean closed;

    /** Creates an empty pool whose threads are named after {@code name}. */
    public CarrierPool(String name) {
        this.name = name;
    }

    /** JVM threads this pool has created. */
    public synchronized int threadsCreated() {
        return created;
    }

    /** Takes a carrier for {@code task}; it starts the task's body at the task's first grant. */
    Carrier take(SimPlatform platform, SimTask task) {
        Carrier c;
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("carrier pool " + name + " is closed");
            }
            c = idle.pollFirst();
            if (c == null) {
                c = new Carrier(name + "-" + created++);
            }
        }
        c.platform = platform;
        c.task = task;
        return c;
    }

    private synchronized boolean release(Carrier c) {
        if (closed) {
            return false;
        }
        idle.addLast(c);
        return true;
    }

    /** Lets the idle threads end. Carriers still running a task end when it does. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        Carrier c;
        while (true) {
            synchronized (this) {
                c = idle.pollFirst();
            }
            if (c == null) {
                return;
            }
            c.platform = null;
            c.task = null;
            c.gate.grant();
        }
    }

    /** One reusable JVM thread. */
    final class Carrier implements Runnable {
        final Gate gate = new Gate();
        volatile SimPlatform platform;
        volatile SimTask task;

        Carrier(String threadName) {
            Thread t = new Thread(this, threadName);
            t.setDaemon(true);
            gate.bind(t);
            t.start();
        }

        Thread thread() {
            return gate.thread();
        }

        void grant() {
            gate.grant();
        }

        void await() {
            gate.await();
        }

        @Override
        public void run() {
            while (true) {
                gate.await();
                SimPlatform p = platform;
                SimTask t = task;
                if (p == null) {
                    return; // the pool closed
                }
                try {
                    p.runOnCarrier(t);
                } catch (Throwable e) {
                    LOG.log(Level.ERROR, "simulator carrier " + gate.thread().getName() + " failed running " + t, e);
                }
                platform = null;
                task = null;
                if (!release(this)) {
                    return;
                }
            }
        }
    }
}
