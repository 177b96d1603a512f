package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code process_one_work}'s leak check: what an item leaves behind on its worker's task (a memalloc
 * scope, atomic context) is reported, counted and undone before the worker's next item.
 */
class LeakCheckTest {

    /** One CPU, and a CPU-intensive threshold no item reaches, so that no other worker takes over. */
    private static final WorkqueueConfig NO_TICK = WorkqueueConfig.defaults().withCpus(1)
            .withCpuIntensiveThreshold(Duration.ofHours(1));

    @Test
    void aScopeLeftOpenByAnItemDoesNotReachTheNextItemOnTheSameWorker() {
        try (RescuerSystem sys = system(NO_TICK)) {
            WorkQueue wq = sys.workqueues().create("leaky", 0);
            AtomicReference<Task> leakerTask = new AtomicReference<>();
            AtomicReference<Task> nextTask = new AtomicReference<>();
            AtomicInteger nextFlags = new AtomicInteger(-1);
            AtomicBoolean nextMayIo = new AtomicBoolean();
            Work next = new Work("next", () -> {
                nextTask.set(sys.platform().currentTask());
                nextFlags.set(sys.platform().currentTask().memallocFlags());
                nextMayIo.set(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayIo());
            });
            Work leaker = new Work("leaker", () -> {
                leakerTask.set(sys.platform().currentTask());
                MemallocScope.noio(sys.platform()); // never closed
                // Queued from the run, it lands on this pool; this worker, still counted as running,
                // takes it next (no other worker is woken while one runs).
                wq.queue(next);
            });
            assertTrue(wq.queue(leaker));
            wq.flush();
            next.flush();
            assertSame(leakerTask.get(), nextTask.get(), "both items ran on the same worker");
            assertEquals(0, nextFlags.get(), "the next item ran with the leaked NOIO scope");
            assertTrue(nextMayIo.get(), "GFP_KERNEL in the next item may start I/O again");
            assertEquals(1, sys.workqueues().stats().leaks());
            wq.destroy();
        }
    }

    @Test
    void atomicContextLeftByAnItemIsUndoneAndCounted() {
        try (RescuerSystem sys = system(NO_TICK)) {
            WorkQueue wq = sys.workqueues().create("leaky_atomic", 0);
            AtomicInteger nextDepth = new AtomicInteger(-1);
            AtomicReference<Task> leakerTask = new AtomicReference<>();
            AtomicReference<Task> nextTask = new AtomicReference<>();
            Work next = new Work("next", () -> {
                nextTask.set(sys.platform().currentTask());
                nextDepth.set(sys.platform().currentTask().atomicDepth());
            });
            Work leaker = new Work("leaker", () -> {
                leakerTask.set(sys.platform().currentTask());
                sys.platform().currentTask().enterAtomic(); // never left
                wq.queue(next);
            });
            assertTrue(wq.queue(leaker));
            wq.flush();
            next.flush();
            assertSame(leakerTask.get(), nextTask.get(), "both items ran on the same worker, which survived the leak");
            assertEquals(0, nextDepth.get(), "the next item ran in the leaked atomic context");
            assertEquals(1, sys.workqueues().stats().leaks());
            wq.destroy();
        }
    }
}
