package dev.rescuer.bench;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The three executors of {@link PipelineBench}'s storage-like pipeline ("fs", "dm", "disk") for one
 * peer, with the wait that is natural on it (as in {@link Peer}). An item on a stage queues the next
 * stage's item and waits for it, so every executor must keep running the lower stages while upper
 * stage items sleep.
 *
 * <ul>
 *   <li>{@code rescuer}: three per-CPU workqueues with {@code MEM_RECLAIM}, as a storage stack creates
 *       them, waiting on core {@code Completion}s; concurrency management starts a worker when one sleeps.
 *   <li>{@code tpe-per-stage}: one fixed {@link ThreadPoolExecutor} of one thread per CPU per stage.
 *       It cannot deadlock: the stages wait only downwards and the disk stage never waits, so the
 *       disk pool always drains, then the dm pool, then the fs pool.
 *   <li>{@code tpe-shared}: one fixed pool for all three stages, of {@code 2 * inFlight + 1} threads.
 *       Any fewer can deadlock (with {@code inFlight} or fewer threads, each takes an fs item and
 *       waits on a dm item queued behind the other fs items); with {@code 2 * inFlight + 1}, at most
 *       {@code inFlight} fs and {@code inFlight} dm items wait, so one thread is always left for the
 *       disk items.
 *   <li>{@code tpe-unbounded}: one cached pool (no queue, a new thread whenever none is idle).
 *   <li>{@code fjp}: one {@link ForkJoinPool} of one thread per CPU, waiting through
 *       {@link ForkJoinPool#managedBlock} so the pool compensates; a plain latch wait would deadlock it.
 *   <li>{@code vthread}: one virtual thread per item (JDK 21 and later), waiting on a plain latch.
 * </ul>
 */
abstract class Stages implements AutoCloseable {

    /** The stages, top to bottom. */
    static final List<String> NAMES = List.of("fs", "dm", "disk");

    abstract Executor fs();

    abstract Executor dm();

    abstract Executor disk();

    abstract Peer.Event newEvent();

    /** Threads running the stages' items now, or the peak so far where the executor records it. */
    abstract int threads();

    @Override
    public abstract void close();

    /**
     * The stages of peer {@code name}.
     *
     * @param inFlight requests in flight at once (sizes {@code tpe-shared})
     * @param countThreads whether a virtual-thread peer counts its live threads
     */
    static Stages create(String name, int inFlight, boolean countThreads) {
        int cpus = Runtime.getRuntime().availableProcessors();
        switch (name) {
            case "rescuer": return new RescuerStages(cpus);
            case "tpe-per-stage": return new PoolStages(fixed(cpus), fixed(cpus), fixed(cpus), false);
            case "tpe-shared": return shared(fixed(2 * inFlight + 1));
            case "tpe-unbounded": return shared(new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>()));
            case "fjp": return new PoolStages(new ForkJoinPool(cpus), null, null, true);
            case Peer.VTHREAD: return new PeerStages(Peer.create(Peer.VTHREAD, countThreads));
            default: throw new IllegalArgumentException("unknown pipeline peer " + name);
        }
    }

    private static ThreadPoolExecutor fixed(int threads) {
        ThreadPoolExecutor tpe = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        tpe.prestartAllCoreThreads();
        return tpe;
    }

    private static Stages shared(ThreadPoolExecutor tpe) {
        return new PoolStages(tpe, null, null, false);
    }

    /** Three MEM_RECLAIM workqueues on one system; their workers come from the shared per-CPU pools. */
    static final class RescuerStages extends Stages {
        final RescuerSystem sys;
        final WorkQueue fs;
        final WorkQueue dm;
        final WorkQueue disk;

        RescuerStages(int cpus) {
            sys = Peer.RescuerPeer.newSystem(cpus);
            fs = sys.workqueues().create("fs", 0, WqFlag.MEM_RECLAIM);
            dm = sys.workqueues().create("dm", 0, WqFlag.MEM_RECLAIM);
            disk = sys.workqueues().create("disk", 0, WqFlag.MEM_RECLAIM);
        }

        @Override Executor fs() { return fs; }

        @Override Executor dm() { return dm; }

        @Override Executor disk() { return disk; }

        @Override Peer.Event newEvent() { return Peer.RescuerPeer.completionEvent(sys); }

        /** Pool workers and the three rescuer threads. */
        @Override int threads() { return sys.workqueues().workerCount() + sys.workqueues().rescuerThreads(); }

        @Override
        public void close() {
            fs.destroy();
            dm.destroy();
            disk.destroy();
            sys.close();
        }
    }

    /** JDK pools: one per stage, or one ({@code dm} and {@code disk} null) shared by the three. */
    static final class PoolStages extends Stages {
        final ExecutorService fs;
        final ExecutorService dm;
        final ExecutorService disk;
        final boolean managed;

        PoolStages(ExecutorService fs, ExecutorService dm, ExecutorService disk, boolean managed) {
            this.fs = fs;
            this.dm = dm == null ? fs : dm;
            this.disk = disk == null ? fs : disk;
            this.managed = managed;
        }

        @Override Executor fs() { return fs; }

        @Override Executor dm() { return dm; }

        @Override Executor disk() { return disk; }

        @Override Peer.Event newEvent() { return Peer.latchEvent(managed); }

        /** For a ThreadPoolExecutor its largest pool size; for a ForkJoinPool its size now. */
        @Override
        int threads() {
            int n = size(fs);
            if (dm != fs) {
                n += size(dm) + size(disk);
            }
            return n;
        }

        private static int size(Executor e) {
            return e instanceof ThreadPoolExecutor ? ((ThreadPoolExecutor) e).getLargestPoolSize() : ((ForkJoinPool) e).getPoolSize();
        }

        @Override
        public void close() {
            fs.shutdownNow(); // dm and disk are fs when shared: a second shutdownNow does nothing
            dm.shutdownNow();
            disk.shutdownNow();
        }
    }

    /** One {@link Peer}'s executor for all three stages. */
    static final class PeerStages extends Stages {
        final Peer peer;

        PeerStages(Peer peer) {
            this.peer = peer;
        }

        @Override Executor fs() { return peer.executor(); }

        @Override Executor dm() { return peer.executor(); }

        @Override Executor disk() { return peer.executor(); }

        @Override Peer.Event newEvent() { return peer.newEvent(); }

        @Override int threads() { return peer.threads(); }

        @Override
        public void close() {
            peer.close();
        }
    }
}
