package dev.rescuer.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Rescuer's workqueue against the JDK's executors. Each benchmark takes the peer as a parameter
 * ({@code tinyPeer}, {@code mixPeer}, {@code latencyPeer}: one name per benchmark, so that
 * {@link BenchSuite} can leave the virtual-thread peer out of each list on a JDK without it), so one
 * run measures all of them under the same conditions.
 *
 * <ul>
 *   <li>{@code tiny1}, {@code tiny2}: empty items submitted by one or two producers, each producer
 *       submitting a batch and spinning until its batch has run; items per second.
 *   <li>{@code tiny1Parked}, {@code tiny2Parked}: the same, but each producer parks until its batch
 *       has run (the item that finishes the batch unparks it), as a producer waiting on a latch or a
 *       future does. Recorded beside the spinning form: with two producers spinning on two CPUs the
 *       workers must win a CPU from a spinner, so that form measures the OS scheduler as much as
 *       the executor.
 *   <li>{@code blockingMix}: pairs of items, one waiting for an event the other signals, submitted
 *       interleaved; pairs' items per second. Each peer waits the way it should: a core Completion on
 *       Rescuer, a latch on a ThreadPoolExecutor, a ManagedBlocker on a ForkJoinPool,
 *       a latch on a virtual thread.
 *   <li>{@code queueLatency}: the time from submitting an item to it running, sampled (p50, p99).
 * </ul>
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class WorkqueueBench {

    static final int BATCH = 1000;
    static final int PAIRS = 100;

    /** The peer under test, set up once per trial; subclasses name it with a JMH parameter. */
    public abstract static class PeerState {
        Peer p;
        Executor exec;

        abstract String peerName();

        @Setup(Level.Trial)
        public void setUp() {
            p = Peer.create(peerName());
            exec = p.executor();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            p.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Tiny extends PeerState {
        /** The peer; {@code vthread} only where the JDK offers virtual threads ({@link BenchSuite} leaves it out elsewhere). */
        @Param({"rescuer", "fjp", "tpe", Peer.VTHREAD})
        public String tinyPeer;

        @Override
        String peerName() {
            return tinyPeer;
        }
    }

    /** One producer's outstanding count; the submitted item decrements it. */
    @State(Scope.Thread)
    public static class Producer {
        final AtomicLong outstanding = new AtomicLong();
        final Runnable item = outstanding::decrementAndGet;
    }

    /**
     * One producer's outstanding count, and the producer parked on it; the item that brings the count
     * to zero unparks it.
     */
    @State(Scope.Thread)
    public static class ParkedProducer {
        final AtomicLong outstanding = new AtomicLong();
        /** Set by the producer before it submits, so the submission publishes it to the items. */
        Thread producer;
        final Runnable item = () -> {
            if (outstanding.decrementAndGet() == 0) {
                LockSupport.unpark(producer);
            }
        };
    }

    static void submitBatchAndPark(Executor exec, ParkedProducer prod) {
        prod.producer = Thread.currentThread();
        prod.outstanding.addAndGet(BATCH);
        for (int i = 0; i < BATCH; i++) {
            exec.execute(prod.item);
        }
        while (prod.outstanding.get() != 0) {
            LockSupport.park(prod); // a stale permit or a spurious return only loops
        }
    }

    static void submitBatchAndWait(Executor exec, Producer prod) {
        prod.outstanding.addAndGet(BATCH);
        for (int i = 0; i < BATCH; i++) {
            exec.execute(prod.item);
        }
        while (prod.outstanding.get() != 0) {
            Thread.onSpinWait();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(1)
    public void tiny1(Tiny t, Producer prod) {
        submitBatchAndWait(t.exec, prod);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(2)
    public void tiny2(Tiny t, Producer prod) {
        submitBatchAndWait(t.exec, prod);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(1)
    public void tiny1Parked(Tiny t, ParkedProducer prod) {
        submitBatchAndPark(t.exec, prod);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(BATCH)
    @Threads(2)
    public void tiny2Parked(Tiny t, ParkedProducer prod) {
        submitBatchAndPark(t.exec, prod);
    }

    @State(Scope.Benchmark)
    public static class Mix extends PeerState {
        /** The peer; {@code vthread} only where the JDK offers virtual threads. */
        @Param({"rescuer", "tpe2", "tpe8", "tpe64", "fjp", Peer.VTHREAD})
        public String mixPeer;

        @Override
        String peerName() {
            return mixPeer;
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(2 * PAIRS)
    public void blockingMix(Mix m, Producer prod) {
        prod.outstanding.addAndGet(2L * PAIRS);
        for (int i = 0; i < PAIRS; i++) {
            Peer.Event e = m.p.newEvent();
            m.exec.execute(() -> {
                e.await();
                prod.outstanding.decrementAndGet();
            });
            m.exec.execute(() -> {
                e.signal();
                prod.outstanding.decrementAndGet();
            });
        }
        while (prod.outstanding.get() != 0) {
            Thread.onSpinWait();
        }
    }

    @State(Scope.Benchmark)
    public static class Latency extends PeerState {
        /** The peer; {@code vthread} only where the JDK offers virtual threads. */
        @Param({"rescuer", "fjp", Peer.VTHREAD})
        public String latencyPeer;
        volatile boolean started;
        final Runnable mark = () -> started = true;

        @Override
        String peerName() {
            return latencyPeer;
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public boolean queueLatency(Latency l) {
        l.started = false;
        l.exec.execute(l.mark);
        while (!l.started) {
            Thread.onSpinWait();
        }
        return true;
    }
}
