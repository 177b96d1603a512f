package dev.rescuer.bench;

import dev.rescuer.check.Validator;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the validator costs on a lock-heavy path: one operation takes a mutex, a rw-semaphore for
 * read and a second mutex nested inside them, signals a completion and consumes it, and releases
 * everything (three acquisitions with two, one and zero held, a wait and a signal). Run with the
 * validator off (no listener installed: one volatile read per site) and on. Average time per
 * operation; lower is better. See docs/PERFORMANCE.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ValidatorBench {

    /** The platform, the primitives and whether a validator watches them. */
    @State(Scope.Thread)
    public static class Workload {
        /** {@code off}: no listener installed; {@code on}: a {@link Validator} installed. */
        @Param({"off", "on"})
        public String validator;

        RealPlatform platform;
        Mutex outer;
        RwSemaphore map;
        Mutex inner;
        Completion done;
        int counter;

        @Setup(Level.Trial)
        public void setUp() {
            platform = new RealPlatform();
            if ("on".equals(validator)) {
                Validator.attach(platform);
            }
            outer = new Mutex(platform, "outer");
            map = new RwSemaphore(platform, "map");
            inner = new Mutex(platform, "inner");
            done = new Completion(platform, "done");
            platform.currentTask(); // adopt the benchmark thread outside the measurement
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            platform.close();
        }
    }

    @Benchmark
    public int nestedLocksAndAnEvent(Workload w) {
        w.outer.lock();
        w.map.downRead();
        w.inner.lock();
        int c = ++w.counter;
        w.inner.unlock();
        w.map.upRead();
        w.done.complete();
        w.done.waitFor(); // consumes the completion just signalled: never sleeps
        w.outer.unlock();
        return c;
    }
}
