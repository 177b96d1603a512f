package dev.rescuer.bench;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The platform's own overhead against the JDK's primitives: an uncontended lock/unlock, a
 * wake-and-wait round trip between two threads (average time per operation; lower is better), and a
 * {@code Mutex} contended by 2 and 4 threads against {@code ReentrantLock}, and {@code RwSemaphore}
 * written by 2 and 4 threads and read and written (one write in {@link #WRITE_EVERY}) by 4, against
 * {@code ReentrantReadWriteLock} (operations per second; higher is better).
 *
 * <p>Rescuer's primitives do more than the JDK's on every call (task lookup, atomic-context check,
 * held-lock bookkeeping, a scheduling point); these benchmarks measure what that costs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PlatformBench {

    /** Uncontended locks, one benchmark thread. */
    @State(Scope.Thread)
    public static class Locks {
        RealPlatform platform;
        Mutex mutex;
        RwSemaphore rwsem;
        final ReentrantLock reentrantLock = new ReentrantLock();
        final ReentrantReadWriteLock readWriteLock = new ReentrantReadWriteLock();
        final Object monitor = new Object();
        int counter;

        @Setup(Level.Trial)
        public void setUp() {
            platform = new RealPlatform();
            mutex = new Mutex(platform, "bench_mutex");
            rwsem = new RwSemaphore(platform, "bench_rwsem");
            platform.currentTask(); // adopt the benchmark thread outside the measurement
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            platform.close();
        }
    }

    @Benchmark
    public int mutexLockUnlock(Locks s) {
        s.mutex.lock();
        int c = ++s.counter;
        s.mutex.unlock();
        return c;
    }

    @Benchmark
    public int reentrantLockLockUnlock(Locks s) {
        s.reentrantLock.lock();
        int c = ++s.counter;
        s.reentrantLock.unlock();
        return c;
    }

    @Benchmark
    public int synchronizedBlock(Locks s) {
        synchronized (s.monitor) {
            return ++s.counter;
        }
    }

    @Benchmark
    public int rwsemReadLockUnlock(Locks s) {
        s.rwsem.downRead();
        int c = ++s.counter;
        s.rwsem.upRead();
        return c;
    }

    @Benchmark
    public int reentrantReadWriteLockReadLockUnlock(Locks s) {
        s.readWriteLock.readLock().lock();
        int c = ++s.counter;
        s.readWriteLock.readLock().unlock();
        return c;
    }

    /** One lock shared by the benchmark's threads: each takes it, bumps the counter and drops it. */
    @State(Scope.Benchmark)
    public static class Contended {
        RealPlatform platform;
        Mutex mutex;
        final ReentrantLock reentrantLock = new ReentrantLock();
        /**
         * The JDK lock with the nearest guarantee: {@code Mutex} hands itself to a first waiter that
         * was woken and lost once, so no waiter starves; a fair {@code ReentrantLock} hands itself to
         * the head on every release, an unfair one lets a waiter lose for ever.
         */
        final ReentrantLock fairReentrantLock = new ReentrantLock(true);
        int counter;

        @Setup(Level.Trial)
        public void setUp() {
            platform = new RealPlatform();
            mutex = new Mutex(platform, "bench_contended_mutex");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            platform.close();
        }
    }

    /** {@code Mutex} lock, increment, unlock by 2 threads at once; operations per second (all threads). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public int mutexContended2(Contended s) {
        return lockedIncrement(s.mutex, s);
    }

    /** {@link #mutexContended2} by 4 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int mutexContended4(Contended s) {
        return lockedIncrement(s.mutex, s);
    }

    /** The JDK peer of {@link #mutexContended2}: {@code ReentrantLock} by 2 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public int reentrantLockContended2(Contended s) {
        return lockedIncrement(s.reentrantLock, s);
    }

    /** The JDK peer of {@link #mutexContended4}: {@code ReentrantLock} by 4 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int reentrantLockContended4(Contended s) {
        return lockedIncrement(s.reentrantLock, s);
    }

    /** A second peer of {@link #mutexContended2}: a fair {@code ReentrantLock} by 2 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public int fairReentrantLockContended2(Contended s) {
        return lockedIncrement(s.fairReentrantLock, s);
    }

    /** A second peer of {@link #mutexContended4}: a fair {@code ReentrantLock} by 4 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int fairReentrantLockContended4(Contended s) {
        return lockedIncrement(s.fairReentrantLock, s);
    }

    private static int lockedIncrement(Mutex m, Contended s) {
        m.lock();
        try {
            return ++s.counter;
        } finally {
            m.unlock();
        }
    }

    private static int lockedIncrement(ReentrantLock l, Contended s) {
        l.lock();
        try {
            return ++s.counter;
        } finally {
            l.unlock();
        }
    }

    /**
     * One rw-semaphore shared by the benchmark's threads, and its JDK peer: writers bump the counter,
     * readers read it.
     */
    @State(Scope.Benchmark)
    public static class ContendedRw {
        RealPlatform platform;
        RwSemaphore rwsem;
        final ReentrantReadWriteLock readWriteLock = new ReentrantReadWriteLock();
        int counter;

        @Setup(Level.Trial)
        public void setUp() {
            platform = new RealPlatform();
            rwsem = new RwSemaphore(platform, "bench_contended_rwsem");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            platform.close();
        }
    }

    /** A benchmark thread's own operation count, which picks the mixed benchmarks' writes. */
    @State(Scope.Thread)
    public static class OpCount {
        int n;

        /** Whether this thread's next operation writes: one in {@link #WRITE_EVERY}. */
        boolean nextWrites() {
            return ++n % WRITE_EVERY == 0;
        }
    }

    /** In the mixed rw-semaphore benchmarks, one operation in this many is a write. */
    static final int WRITE_EVERY = 4;

    /** {@code RwSemaphore} down-write, increment, up-write by 2 threads at once; operations per second. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public int rwsemWriteContended2(ContendedRw s) {
        return writeIncrement(s);
    }

    /** {@link #rwsemWriteContended2} by 4 threads at once. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int rwsemWriteContended4(ContendedRw s) {
        return writeIncrement(s);
    }

    /** 4 threads, each taking the rw-semaphore to write one operation in {@link #WRITE_EVERY}, else to read. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int rwsemMixedContended4(ContendedRw s, OpCount t) {
        if (t.nextWrites()) {
            return writeIncrement(s);
        }
        s.rwsem.downRead();
        try {
            return s.counter;
        } finally {
            s.rwsem.upRead();
        }
    }

    /** The JDK peer of {@link #rwsemWriteContended2}: {@code ReentrantReadWriteLock}'s write lock by 2 threads. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public int reentrantReadWriteLockWriteContended2(ContendedRw s) {
        return writeIncrementJdk(s);
    }

    /** The JDK peer of {@link #rwsemWriteContended4}. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int reentrantReadWriteLockWriteContended4(ContendedRw s) {
        return writeIncrementJdk(s);
    }

    /** The JDK peer of {@link #rwsemMixedContended4}. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(4)
    public int reentrantReadWriteLockMixedContended4(ContendedRw s, OpCount t) {
        if (t.nextWrites()) {
            return writeIncrementJdk(s);
        }
        s.readWriteLock.readLock().lock();
        try {
            return s.counter;
        } finally {
            s.readWriteLock.readLock().unlock();
        }
    }

    private static int writeIncrement(ContendedRw s) {
        s.rwsem.downWrite();
        try {
            return ++s.counter;
        } finally {
            s.rwsem.upWrite();
        }
    }

    private static int writeIncrementJdk(ContendedRw s) {
        s.readWriteLock.writeLock().lock();
        try {
            return ++s.counter;
        } finally {
            s.readWriteLock.writeLock().unlock();
        }
    }

    /**
     * A partner thread that answers every wake-up: the benchmark thread sets {@code turn = 1} and
     * wakes the partner, the partner sets {@code turn = 0} and wakes it back. One operation is one
     * round trip, i.e. two wake-and-sleep handoffs.
     */
    @State(Scope.Thread)
    public static class Handoff {
        RealPlatform platform;
        volatile int turn;
        volatile boolean stop;
        Task self;
        Task partnerTask;
        Thread selfThread;
        Thread partnerThread;
        final Primitive onTurn = new Primitive() {
            @Override public String name() { return "bench_turn"; }
            @Override public String kind() { return "bench"; }
        };

        @Setup(Level.Trial)
        public void setUp() {
            platform = new RealPlatform();
            self = platform.currentTask();
            selfThread = Thread.currentThread();
            partnerTask = platform.startThread("bench-partner", () -> {
                while (true) {
                    platform.await(onTurn, () -> turn == 1 || stop, Platform.NO_DEADLINE);
                    if (stop) {
                        return;
                    }
                    turn = 0;
                    platform.wake(self);
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stop = true;
            platform.wake(partnerTask);
            platform.join(partnerTask);
            platform.close();
        }
    }

    @Benchmark
    public int platformWakeAwaitRoundTrip(Handoff s) {
        s.turn = 1;
        s.platform.wake(s.partnerTask);
        s.platform.await(s.onTurn, () -> s.turn == 0, Platform.NO_DEADLINE);
        return s.turn;
    }

    /** The same round trip with bare {@link LockSupport}, the JDK's building block. */
    @State(Scope.Thread)
    public static class ParkHandoff {
        volatile int turn;
        volatile boolean stop;
        volatile Thread self;
        Thread partner;

        @Setup(Level.Trial)
        public void setUp() {
            self = Thread.currentThread();
            partner = new Thread(() -> {
                while (!stop) {
                    while (turn != 1 && !stop) {
                        LockSupport.park(this);
                    }
                    turn = 0;
                    LockSupport.unpark(self);
                }
            }, "park-partner");
            partner.setDaemon(true);
            partner.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            stop = true;
            LockSupport.unpark(partner);
            partner.join();
        }
    }

    @Benchmark
    public int lockSupportParkUnparkRoundTrip(ParkHandoff s) {
        s.turn = 1;
        LockSupport.unpark(s.partner);
        while (s.turn != 0) {
            LockSupport.park(s);
        }
        return s.turn;
    }
}
