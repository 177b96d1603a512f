package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Workqueues#status}: who runs an item, or who could while it waits. */
class WorkStatusTest {

    @Test
    void neverQueuedItemHasNoQueueAndNobodyBehindIt() {
        try (RescuerSystem sys = system(1)) {
            WorkStatus st = sys.workqueues().status(new Work("idle", () -> { }));
            assertEquals(new WorkStatus(null, false, null, null, null), st);
        }
    }

    @Test
    void runningItemNamesTheTaskRunningItAndTheQueuesRescuer() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue q = sys.workqueues().create("status", 0, WqFlag.MEM_RECLAIM);
            Completion release = new Completion(sys.platform(), "release");
            AtomicReference<Task> runner = new AtomicReference<>();
            Work w = new Work("blocker", () -> {
                runner.set(sys.platform().currentTask());
                release.waitFor();
            });
            q.queue(w);
            try {
                Poll.until("the item runs", () -> runner.get() != null);
                WorkStatus st = sys.workqueues().status(w);
                assertEquals("status", st.queue());
                assertFalse(st.pending());
                assertSame(runner.get(), st.runningOn());
                assertSame(q.rescuerTask(), st.rescuer());
            } finally {
                release.complete();
            }
            w.flush();
            WorkStatus done = sys.workqueues().status(w);
            assertNull(done.runningOn(), "finished items run nowhere");
            assertFalse(done.pending());
        }
    }

    @Test
    void pendingItemBehindABusyOrderedQueueIsPendingAndNotRunning() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue q = sys.workqueues().createOrdered("ordered");
            Completion release = new Completion(sys.platform(), "release");
            AtomicReference<Task> runner = new AtomicReference<>();
            Work first = new Work("first", () -> {
                runner.set(sys.platform().currentTask());
                release.waitFor();
            });
            Work second = new Work("second", () -> { });
            q.queue(first);
            q.queue(second);
            try {
                Poll.until("the first item runs", () -> runner.get() != null);
                WorkStatus st = sys.workqueues().status(second);
                assertTrue(st.pending());
                assertNull(st.runningOn());
                assertNull(st.rescuer(), "no MEM_RECLAIM, no rescuer");
            } finally {
                release.complete();
            }
            q.flush();
        }
    }
}
