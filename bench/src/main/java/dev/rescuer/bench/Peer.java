package dev.rescuer.bench;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One executor under test, with the blocking wait that is natural on it: Rescuer's workqueue with a
 * core {@link Completion} (so concurrency management sees the sleep), a fixed {@link ThreadPoolExecutor}
 * with a {@link CountDownLatch}, a {@link ForkJoinPool} with the latch wait wrapped in a
 * {@link ForkJoinPool.ManagedBlocker} (so the pool compensates), or one virtual thread per item
 * ({@code Executors.newVirtualThreadPerTaskExecutor}, JDK 21 and later) with a plain latch wait (a
 * virtual thread unmounts from its carrier while it waits).
 */
abstract class Peer implements AutoCloseable {

    /** The peer name of one virtual thread per item, offered where {@link #virtualThreadsOffered()}. */
    static final String VTHREAD = "vthread";

    /**
     * {@code Executors.newVirtualThreadPerTaskExecutor()}, looked up by reflection because the build
     * targets Java 17; {@code null} on a JDK without it.
     */
    private static final Method NEW_VIRTUAL_THREAD_EXECUTOR = lookUpVirtualThreadExecutor();

    private static Method lookUpVirtualThreadExecutor() {
        try {
            return Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    /** Whether the JDK this runs on offers virtual threads (Java 21 and later). */
    static boolean virtualThreadsOffered() {
        return NEW_VIRTUAL_THREAD_EXECUTOR != null;
    }

    /** A new executor that starts one virtual thread per item; refused on a JDK without them. */
    static ExecutorService newVirtualThreadExecutor() {
        if (NEW_VIRTUAL_THREAD_EXECUTOR == null) {
            throw new IllegalStateException("virtual threads are not offered by this JDK (" + Runtime.version().feature()
                    + "); run on Java 21 or later, e.g. ./rescuer bench --jvm /usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
        }
        try {
            return (ExecutorService) NEW_VIRTUAL_THREAD_EXECUTOR.invoke(null);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("Executors.newVirtualThreadPerTaskExecutor failed", e);
        }
    }

    /** A one-shot event a task waits for and another task signals. */
    interface Event {
        void await();

        void signal();
    }

    final String name;

    Peer(String name) {
        this.name = name;
    }

    abstract Executor executor();

    abstract Event newEvent();

    /**
     * Threads the executor runs items on now (workers; not producers or helpers). For virtual threads
     * created with {@code countThreads}: the most alive at once so far, since each exits with its item.
     */
    abstract int threads();

    @Override
    public abstract void close();

    /** The peer called {@code name}, for a JMH trial (a virtual-thread peer does not count its threads). */
    static Peer create(String name) {
        return create(name, false);
    }

    /**
     * The peer called {@code name}: {@code rescuer}, {@code fjp}, {@code tpe} (one thread per CPU),
     * {@code tpe2}, {@code tpe8}, {@code tpe64} or {@code vthread}.
     *
     * @param countThreads whether a virtual-thread peer counts its live threads for {@link #threads()}
     *        (an atomic update per item, so off while timing)
     */
    static Peer create(String name, boolean countThreads) {
        int cpus = Runtime.getRuntime().availableProcessors();
        switch (name) {
            case "rescuer": return new RescuerPeer(cpus);
            case "fjp": return new FjpPeer(cpus);
            case "tpe": return new TpePeer("tpe", cpus);
            case "tpe2": return new TpePeer(name, 2);
            case "tpe8": return new TpePeer(name, 8);
            case "tpe64": return new TpePeer(name, 64);
            case VTHREAD: return new VirtualThreadPeer(countThreads);
            default: throw new IllegalArgumentException("unknown peer " + name);
        }
    }

    /** A per-CPU Rescuer workqueue on a system with a large page budget. */
    static final class RescuerPeer extends Peer {
        final RescuerSystem sys;
        final WorkQueue wq;

        RescuerPeer(int cpus) {
            super("rescuer");
            sys = newSystem(cpus);
            wq = sys.workqueues().create("bench", 0);
        }

        /** A system of {@code cpus} per-CPU pools and a page budget no benchmark exhausts. */
        static RescuerSystem newSystem(int cpus) {
            return RescuerSystem.builder().totalPages(1 << 20).workqueues(WorkqueueConfig.defaults().withCpus(cpus)).build();
        }

        /** An event on a core {@link Completion}: a worker that waits on it sleeps where concurrency management sees it. */
        static Event completionEvent(RescuerSystem sys) {
            Completion c = new Completion(sys.platform(), "bench_event");
            return new Event() {
                @Override public void await() { c.waitFor(); }
                @Override public void signal() { c.complete(); }
            };
        }

        @Override
        Executor executor() {
            return wq;
        }

        @Override
        Event newEvent() {
            return completionEvent(sys);
        }

        @Override
        int threads() {
            return sys.workqueues().workerCount();
        }

        @Override
        public void close() {
            wq.destroy();
            sys.close();
        }
    }

    static final class TpePeer extends Peer {
        final ThreadPoolExecutor tpe;

        TpePeer(String name, int threads) {
            super(name);
            tpe = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
            tpe.prestartAllCoreThreads();
        }

        @Override
        Executor executor() {
            return tpe;
        }

        @Override
        Event newEvent() {
            return latchEvent(false);
        }

        @Override
        int threads() {
            return tpe.getPoolSize();
        }

        @Override
        public void close() {
            tpe.shutdownNow();
        }
    }

    static final class FjpPeer extends Peer {
        final ForkJoinPool fjp;

        FjpPeer(int parallelism) {
            super("fjp");
            fjp = new ForkJoinPool(parallelism);
        }

        @Override
        Executor executor() {
            return fjp;
        }

        @Override
        Event newEvent() {
            return latchEvent(true);
        }

        @Override
        int threads() {
            return fjp.getPoolSize();
        }

        @Override
        public void close() {
            fjp.shutdownNow();
        }
    }

    /** One virtual thread per item, on the JDK's default scheduler (a ForkJoinPool of one carrier per CPU). */
    static final class VirtualThreadPeer extends Peer {
        final ExecutorService vts = newVirtualThreadExecutor();
        final Executor exec;
        final AtomicInteger live = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        VirtualThreadPeer(boolean countThreads) {
            super(VTHREAD);
            exec = countThreads ? this::executeCounted : vts;
        }

        private void executeCounted(Runnable item) {
            vts.execute(() -> {
                peak.accumulateAndGet(live.incrementAndGet(), Math::max);
                try {
                    item.run();
                } finally {
                    live.decrementAndGet();
                }
            });
        }

        @Override
        Executor executor() {
            return exec;
        }

        @Override
        Event newEvent() {
            return latchEvent(false);
        }

        @Override
        int threads() {
            return peak.get();
        }

        @Override
        public void close() {
            vts.shutdownNow();
        }
    }

    static Event latchEvent(boolean managed) {
        CountDownLatch latch = new CountDownLatch(1);
        ForkJoinPool.ManagedBlocker blocker = new ForkJoinPool.ManagedBlocker() {
            @Override
            public boolean block() throws InterruptedException {
                latch.await();
                return true;
            }

            @Override
            public boolean isReleasable() {
                return latch.getCount() == 0;
            }
        };
        return new Event() {
            @Override
            public void await() {
                try {
                    if (managed) {
                        ForkJoinPool.managedBlock(blocker);
                    } else {
                        latch.await();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void signal() {
                latch.countDown();
            }
        };
    }
}
