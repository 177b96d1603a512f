package dev.rescuer.bench;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One executor under test, with the blocking wait that is natural on it: Rescuer's workqueue with a
 * core {@link Completion} (so concurrency management sees the sleep), a fixed {@link ThreadPoolExecutor}
 * with a {@link CountDownLatch}, or a {@link ForkJoinPool} with the latch wait wrapped in a
 * {@link ForkJoinPool.ManagedBlocker} (so the pool compensates).
 */
abstract class Peer implements AutoCloseable {

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

    /** Threads the executor runs items on now (workers; not producers or helpers). */
    abstract int threads();

    @Override
    public abstract void close();

    static Peer create(String name) {
        int cpus = Runtime.getRuntime().availableProcessors();
        switch (name) {
            case "rescuer": return new RescuerPeer(cpus);
            case "fjp": return new FjpPeer(cpus);
            case "tpe": return new TpePeer("tpe", cpus);
            case "tpe2": return new TpePeer(name, 2);
            case "tpe8": return new TpePeer(name, 8);
            case "tpe64": return new TpePeer(name, 64);
            default: throw new IllegalArgumentException("unknown peer " + name);
        }
    }

    /** A per-CPU Rescuer workqueue on a system with a large page budget. */
    static final class RescuerPeer extends Peer {
        final RescuerSystem sys;
        final WorkQueue wq;

        RescuerPeer(int cpus) {
            super("rescuer");
            sys = RescuerSystem.builder().totalPages(1 << 20).workqueues(WorkqueueConfig.defaults().withCpus(cpus)).build();
            wq = sys.workqueues().create("bench", 0);
        }

        @Override
        Executor executor() {
            return wq;
        }

        @Override
        Event newEvent() {
            Completion c = new Completion(sys.platform(), "bench_event");
            return new Event() {
                @Override public void await() { c.waitFor(); }
                @Override public void signal() { c.complete(); }
            };
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
