package dev.rescuer.storage.fs.workload;

import dev.rescuer.core.platform.TaskAbortedError;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What every workload shares: a name, one task running {@link #body()}, progress counters and the
 * first failure. All fields are atomics, so {@link #progress()} may be read from any task.
 */
abstract class AbstractWorkload implements Workload {

    private final String name;
    private final long total;
    private final WorkloadEnv env;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicInteger running = new AtomicInteger();
    private final AtomicLong done = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();

    AbstractWorkload(String name, long total, WorkloadEnv env) {
        this.name = name;
        this.total = total;
        this.env = env;
    }

    @Override
    public String name() {
        return name;
    }

    /** The work of the workload's task. */
    abstract void body();

    /** One more unit done. */
    final void advance() {
        done.incrementAndGet();
        env.onProgress().run();
    }

    @Override
    public final void start(TaskStarter starter) {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("workload '" + name + "' was already started");
        }
        running.incrementAndGet();
        starter.start(name, () -> {
            try {
                body();
            } catch (TaskAbortedError e) {
                throw e;
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e.toString());
                throw e;
            } finally {
                running.decrementAndGet();
            }
        });
    }

    @Override
    public final WorkloadProgress progress() {
        return new WorkloadProgress(done.get(), total, started.get() && running.get() == 0, failure.get());
    }
}
