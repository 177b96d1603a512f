package dev.rescuer.sim;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkQueueExecutorService;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The JDK-shaped API (executor service, interruptible acquisitions, {@code Lock} conditions) under
 * the simulator: everything it waits on goes through the platform, so runs complete in every
 * schedule and on virtual time. Results are recorded in the tasks and asserted after the run.
 */
class JdkApiOnSimTest {

    private static void forSeeds(String name, java.util.function.BiConsumer<SimPlatform, Long> body, Runnable check) {
        SeededRuns.forSeeds(name, 20, body, check);
    }

    @Test
    void anExecutorServiceOverAQueueRunsFuturesShutsDownAndTerminatesOnTheSimulator() {
        AtomicReference<String> outcome = new AtomicReference<>();
        forSeeds("sim-executor", (sim, seed) -> {
            RescuerSystem sys = RescuerSystem.builder().platform(sim).cpus(2).totalPages(1024).build();
            WorkQueue wq = sys.workqueues().create("exec", 1);
            WorkQueueExecutorService ex = wq.asExecutorService();
            try {
                Future<Integer> a = ex.submit(() -> 20);
                Future<Integer> b = ex.submit(() -> 22);
                int any = ex.invokeAny(List.of(() -> 1, () -> 1));
                int sum = a.get() + b.get() + ex.invokeAll(List.<java.util.concurrent.Callable<Integer>>of(() -> 0)).get(0).get();
                ex.shutdown();
                boolean terminated = ex.awaitTermination(10, TimeUnit.SECONDS); // virtual seconds
                outcome.set(sum + " " + any + " " + terminated + " " + ex.isTerminated());
            } catch (Exception e) {
                outcome.set(e.toString());
            }
            wq.destroy();
            sys.close();
        }, () -> assertEquals("42 1 true true", outcome.get()));
    }

    @Test
    void anInterruptFromAnotherTaskEndsAnInterruptibleSleepOnTheSimulator() {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicInteger readersAfter = new AtomicInteger();
        forSeeds("sim-interrupt", (sim, seed) -> {
            thrown.set(null);
            Mutex m = new Mutex(sim, "m");
            RwSemaphore rw = new RwSemaphore(sim, "rw");
            m.lock();
            rw.downRead();
            AtomicBoolean queued = new AtomicBoolean();
            Task waiter = sim.startThread("waiter", () -> {
                try {
                    queued.set(true);
                    m.lockInterruptible();
                    thrown.set(new AssertionError("took a held mutex"));
                } catch (InterruptedException e) {
                    thrown.set(e);
                }
            });
            Task writer = sim.startThread("writer", () -> {
                try {
                    rw.downWriteInterruptible();
                    rw.upWrite();
                } catch (InterruptedException e) {
                    // expected in schedules where it is interrupted while queued
                }
            });
            // Interrupt whenever the tasks are: queued, not yet queued, or (the writer) never queued.
            sim.interrupt(waiter);
            sim.interrupt(writer);
            sim.join(waiter);
            rw.upRead();
            sim.join(writer);
            readersAfter.set(rw.readers() + (rw.writer() == null ? 0 : 100) + rw.waitingTasks().size());
            m.unlock();
        }, () -> {
            assertInstanceOf(InterruptedException.class, thrown.get());
            assertEquals(0, readersAfter.get(), "nothing is left held or queued");
        });
    }

    @Test
    void aConditionOfAMutexAsLockHandsOverOnTheSimulator() {
        AtomicInteger consumed = new AtomicInteger();
        forSeeds("sim-condition", (sim, seed) -> {
            consumed.set(0);
            Lock lock = new Mutex(sim, "m").asLock();
            Condition notEmpty = lock.newCondition();
            int[] items = {0};
            Task consumer = sim.startThread("consumer", () -> {
                for (int i = 0; i < 5; i++) {
                    lock.lock();
                    try {
                        while (items[0] == 0) {
                            notEmpty.awaitUninterruptibly();
                        }
                        items[0]--;
                        consumed.incrementAndGet();
                    } finally {
                        lock.unlock();
                    }
                }
            });
            for (int i = 0; i < 5; i++) {
                lock.lock();
                try {
                    items[0]++;
                    notEmpty.signal();
                } finally {
                    lock.unlock();
                }
            }
            sim.join(consumer);
        }, () -> assertEquals(5, consumed.get()));
    }
}
