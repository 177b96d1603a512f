package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WorkQueue#setFailureHandler}: the owner sees each item that throws, in the task that ran it,
 * before a flush returns; a handler that throws is logged and the worker goes on.
 */
class WorkFailureHandlerTest {

    private record Seen(Work work, Throwable failure, Task task, boolean atomic) { }

    @Test
    void theHandlerSeesTheItemAndItsFailureInTheWorkerBeforeTheFlushReturns() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(1).build()) {
            WorkQueue wq = sys.workqueues().create("fails", 0);
            List<Seen> seen = new CopyOnWriteArrayList<>();
            wq.setFailureHandler((w, t) -> seen.add(new Seen(w, t, sys.platform().currentTask(), sys.platform().currentTask().inAtomic())));
            AtomicReference<Task> ranIn = new AtomicReference<>();
            RuntimeException boom = new RuntimeException("boom");
            Work bad = new Work("bad", () -> {
                ranIn.set(sys.platform().currentTask());
                throw boom;
            });
            wq.queue(bad);
            wq.flush();
            assertEquals(1, seen.size(), "seen before flush returned");
            assertSame(bad, seen.get(0).work());
            assertSame(boom, seen.get(0).failure());
            assertSame(ranIn.get(), seen.get(0).task(), "in the task that ran the item");
            assertFalse(seen.get(0).atomic());
            assertEquals(1, sys.workqueues().stats().failures());
            assertFalse(ranIn.get().hasExited(), "the worker survives");

            AtomicBoolean ok = new AtomicBoolean();
            wq.queue(new Work("good", () -> ok.set(true)));
            wq.flush();
            assertTrue(ok.get());
            assertEquals(1, seen.size(), "an item that returns is not reported");
            wq.setFailureHandler(null);
            wq.queue(bad);
            wq.flush();
            assertEquals(1, seen.size(), "removed");
            assertEquals(2, sys.workqueues().stats().failures(), "counted either way");
            wq.destroy();
        }
    }

    @Test
    void aHandlerThatThrowsIsLoggedAndTheWorkerGoesOn() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(1).build()) {
            WorkQueue wq = sys.workqueues().create("fails", 0);
            AtomicReference<Task> handlerTask = new AtomicReference<>();
            wq.setFailureHandler((w, t) -> {
                handlerTask.set(sys.platform().currentTask());
                throw new IllegalStateException("the handler fails too");
            });
            wq.queue(new Work("bad", () -> {
                throw new RuntimeException("boom");
            }));
            wq.flush();
            assertNotNull(handlerTask.get());
            assertFalse(handlerTask.get().hasExited(), "the worker survives its handler's exception");
            AtomicBoolean ok = new AtomicBoolean();
            wq.queue(new Work("good", () -> ok.set(true)));
            wq.flush();
            assertTrue(ok.get());
            wq.destroy();
        }
    }

    @Test
    void onABhQueueTheHandlerRunsInAtomicContextLikeTheItem() {
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(1).build()) {
            WorkQueue wq = sys.workqueues().create("bh-fails", 0, WqFlag.BH);
            List<Seen> seen = new CopyOnWriteArrayList<>();
            wq.setFailureHandler((w, t) -> seen.add(new Seen(w, t, sys.platform().currentTask(), sys.platform().currentTask().inAtomic())));
            wq.queue(new Work("bad", () -> {
                throw new RuntimeException("boom");
            }));
            wq.flush();
            assertEquals(1, seen.size());
            assertTrue(seen.get(0).atomic());
            wq.destroy();
        }
    }
}
