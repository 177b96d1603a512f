package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared helpers for the workqueue semantics tests. Every wait is a poll of a condition with a bound
 * ({@link #PATIENCE}); hitting the bound is a test failure, never a synchronization device.
 */
final class WqTesting {

    /** How long a bounded wait may take before the test fails. */
    static final Duration PATIENCE = Duration.ofSeconds(20);

    private WqTesting() {
    }

    /** A system with the default workqueue config on {@code cpus} CPUs. */
    static RescuerSystem system(int cpus) {
        return system(WorkqueueConfig.defaults().withCpus(cpus));
    }

    /** A system with the given workqueue config. */
    static RescuerSystem system(WorkqueueConfig cfg) {
        return RescuerSystem.builder().totalPages(8192).workqueues(cfg).build();
    }


    /**
     * Spins (without any core primitive, so without telling the pool) until {@code cond} holds or
     * {@code bound} passes; for use inside items that must not sleep.
     *
     * @return whether the condition held
     */
    static boolean spinUntil(BooleanSupplier cond, Duration bound) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /** Busy work of about {@code iterations} spin hints, to widen race windows without sleeping. */
    static void burn(int iterations) {
        for (int i = 0; i < iterations; i++) {
            Thread.onSpinWait();
        }
    }

    /** Raises {@code max} to at least {@code value}. */
    static void raise(AtomicInteger max, int value) {
        max.accumulateAndGet(value, Math::max);
    }

    /** Starts {@code n} platform tasks running {@code body.accept(i)} and waits for all of them. */
    static void runTasks(Platform platform, String name, int n, java.util.function.IntConsumer body) {
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            tasks.add(platform.startThread(name + "/" + i, () -> body.accept(id)));
        }
        for (Task t : tasks) {
            platform.join(t);
        }
        for (Task t : tasks) {
            if (t.failure() != null) {
                throw new AssertionError("task " + t.name() + " failed", t.failure());
            }
        }
    }

    /** Platform tasks whose name starts with {@code prefix} and that sleep idle (workers on their idle list). */
    static long idleTasks(RescuerSystem sys, String prefix) {
        return sys.platform().tasks().stream()
                .filter(t -> t.name().startsWith(prefix) && !t.name().endsWith("H"))
                .filter(t -> t.waitingOn() != null && t.waitingOn().isIdleWait())
                .count();
    }

    /**
     * Like {@link #idleTasks}, but only workers with no wake-up pending: asleep on their idle list
     * and staying asleep until someone wakes them.
     */
    static long settledIdleWorkers(RescuerSystem sys, String prefix) {
        return sys.platform().tasks().stream()
                .filter(t -> t.name().startsWith(prefix) && !t.name().endsWith("H"))
                .filter(t -> t.waitingOn() != null && t.waitingOn().isIdleWait())
                .filter(t -> {
                    Worker w = Workqueues.currentWorker(t);
                    return w != null && !w.kicked;
                })
                .count();
    }

    /** Live platform tasks whose name starts with {@code prefix}, high-priority workers excluded. */
    static long liveTasks(RescuerSystem sys, String prefix) {
        return sys.platform().tasks().stream()
                .filter(t -> t.name().startsWith(prefix) && !t.name().endsWith("H"))
                .count();
    }

    /** The name prefix of the unbound normal-priority pool's workers, such as {@code "kworker/u2:"}. */
    static String unboundPrefix(int cpus) {
        return "kworker/u" + (2 * cpus) + ":";
    }

    /** The pool part of a worker's name: {@code "kworker/1:3"} gives {@code "kworker/1"}. */
    static String poolOf(String workerName) {
        int colon = workerName.lastIndexOf(':');
        return colon < 0 ? workerName : workerName.substring(0, colon);
    }
}
