package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which CPU a user's thread queues on ({@code queue_work}'s local CPU): user threads adopted one
 * after the other take the CPUs in turn, whatever tasks the platform started in between, and the
 * item runs on that CPU's pool.
 */
class UserThreadCpuTest {

    /** What one user thread saw: its task and CPU, and the worker its item ran on. */
    private record Seen(Task task, int cpu, String worker) {
    }

    /** Runs on a fresh (so far unadopted) JVM thread: queues one item from it and waits for it. */
    private static Seen queueFromNewThread(RescuerSystem sys, WorkQueue wq) throws InterruptedException {
        AtomicReference<Seen> seen = new AtomicReference<>();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                Platform platform = sys.platform();
                Task self = platform.currentTask(); // adopts this thread
                int cpu = sys.workqueues().currentCpu();
                AtomicReference<String> ranOn = new AtomicReference<>();
                Completion done = new Completion(platform, "ran");
                wq.queue(new Work("where", () -> {
                    ranOn.set(Thread.currentThread().getName());
                    done.complete();
                }));
                done.waitFor();
                seen.set(new Seen(self, cpu, ranOn.get()));
            } catch (Throwable e) {
                failed.set(e);
            }
        }, "user-thread");
        t.start();
        t.join();
        if (failed.get() != null) {
            throw new AssertionError("the user thread failed", failed.get());
        }
        return seen.get();
    }

    @Test
    void userThreadsAdoptedOneAfterTheOtherQueueOnDifferentCpusWhateverWasStartedBetween() throws Exception {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(2).build()) {
            WorkQueue wq = sys.workqueues().create("where", 0);
            // Arrange ids of one parity for the two threads, which alone would put both on one of the
            // two CPUs: a task the platform starts between the adoptions takes an id, as a worker or a
            // timer does. Workers the pool creates meanwhile take ids too, so try again until it holds.
            for (int attempt = 0; ; attempt++) {
                Seen a = queueFromNewThread(sys, wq);
                Completion started = new Completion(sys.platform(), "started");
                sys.platform().startThread("in-between", started::complete);
                started.waitFor();
                Seen b = queueFromNewThread(sys, wq);
                if ((b.task().id() - a.task().id()) % 2 != 0) {
                    assertTrue(attempt < 20, "no two adoptions with ids of one parity in 20 attempts");
                    continue;
                }
                assertTrue(a.task().isAdopted() && b.task().isAdopted());
                assertEquals(a.task().adoptionOrder() + 1, b.task().adoptionOrder(), "adopted one after the other");
                assertNotEquals(a.cpu(), b.cpu(), "two user threads adopted in turn take the two CPUs in turn");
                assertTrue(a.worker().startsWith("kworker/" + a.cpu() + ":"), a + " ran on its CPU's pool");
                assertTrue(b.worker().startsWith("kworker/" + b.cpu() + ":"), b + " ran on its CPU's pool");
                break;
            }
            wq.destroy();
        }
    }

    @Test
    void aStartedTaskKeepsItsIdAsItsCpuAndHasNoAdoptionOrder() throws Exception {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(3).build()) {
            AtomicReference<Task> task = new AtomicReference<>();
            AtomicReference<Integer> cpu = new AtomicReference<>();
            Completion done = new Completion(sys.platform(), "done");
            sys.platform().startThread("started", () -> {
                task.set(sys.platform().currentTask());
                cpu.set(sys.workqueues().currentCpu());
                done.complete();
            });
            done.waitFor();
            assertEquals(-1, task.get().adoptionOrder());
            assertEquals((int) (task.get().id() % 3), cpu.get());
        }
    }
}
