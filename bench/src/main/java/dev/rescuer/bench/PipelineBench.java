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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The realistic case, in the style of Caffeine's benchmarks: a storage-like pipeline of three stages
 * on three queues ({@link Stages}: "fs" on "dm" on "disk"). A request is an fs item that does a little
 * work, queues a dm item and waits for it; the dm item does the same with a disk item; the disk item
 * does its work and signals. The producer queues {@link #IN_FLIGHT} requests and waits until all have
 * finished; requests per second. The work is {@link Blackhole#consumeCPU} (a fixed number of
 * tokens per stage), so the structure is the same every time and nothing sleeps on a timer.
 *
 * <p>Every peer runs the same structure with its natural wait ({@link Stages} says why each sizing
 * cannot deadlock). The peak threads each peer needed are measured by {@link #peakThreads}.
 */
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PipelineBench {

    /** Requests queued at once, as a device's queue depth. */
    static final int IN_FLIGHT = 32;
    /** CPU work per stage (Blackhole tokens): the file system's and the mapping's bookkeeping, the device's submission. */
    static final long FS_WORK = 50;
    static final long DM_WORK = 50;
    static final long DISK_WORK = 200;

    /** The peer's three stages, set up once per trial. */
    @State(Scope.Benchmark)
    public static class Pipeline {
        /** The peer; {@code vthread} only where the JDK offers virtual threads. */
        @Param({"rescuer", "tpe-per-stage", "tpe-shared", "tpe-unbounded", "fjp", Peer.VTHREAD})
        public String pipelinePeer;

        Stages stages;

        @Setup(Level.Trial)
        public void setUp() {
            stages = Stages.create(pipelinePeer, IN_FLIGHT, false);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            stages.close();
        }
    }

    /** One batch of {@link #IN_FLIGHT} requests through the three stages; requests per second. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public void pipeline(Pipeline p) {
        runBatch(p.stages, new AtomicLong());
    }

    /** Queues {@link #IN_FLIGHT} requests on {@code s} and returns when all have finished. */
    static void runBatch(Stages s, AtomicLong outstanding) {
        outstanding.addAndGet(IN_FLIGHT);
        for (int i = 0; i < IN_FLIGHT; i++) {
            s.fs().execute(() -> {
                Blackhole.consumeCPU(FS_WORK);
                Peer.Event mapped = s.newEvent();
                s.dm().execute(() -> {
                    Blackhole.consumeCPU(DM_WORK);
                    Peer.Event written = s.newEvent();
                    s.disk().execute(() -> {
                        Blackhole.consumeCPU(DISK_WORK);
                        written.signal();
                    });
                    written.await();
                    mapped.signal();
                });
                mapped.await();
                outstanding.decrementAndGet();
            });
        }
        while (outstanding.get() != 0) {
            Thread.onSpinWait();
        }
    }

    /** The most threads peer {@code name} ran the pipeline on, over {@code batches} batches. */
    static int peakThreads(String name, int batches) {
        int peak = 0;
        try (Stages s = Stages.create(name, IN_FLIGHT, true)) {
            AtomicLong outstanding = new AtomicLong();
            for (int i = 0; i < batches; i++) {
                runBatch(s, outstanding);
                peak = Math.max(peak, s.threads());
            }
        }
        return peak;
    }
}
