package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class WorkQueueSmokeTest {

    private static RescuerSystem system() {
        return RescuerSystem.builder().totalPages(4096).cpus(2).build();
    }

    @Test
    void queuedItemRunsAndFlushWaitsForIt() {
        try (RescuerSystem sys = system()) {
            Workqueues wqs = sys.workqueues();
            WorkQueue wq = wqs.create("smoke", 0);
            AtomicInteger runs = new AtomicInteger();
            Work w = new Work("count", runs::incrementAndGet);
            assertTrue(wq.queue(w));
            w.flush();
            assertEquals(1, runs.get());
            for (int i = 0; i < 1000; i++) {
                wq.queue(w);
            }
            wq.flush();
            assertTrue(runs.get() >= 2);
            assertFalse(w.isPending());
            wq.destroy();
        }
    }

    @Test
    void orderedQueueRunsInQueueingOrder() {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().createOrdered("ordered");
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 200; i++) {
                int n = i;
                wq.queue(new Work("item" + i, () -> order.add(n)));
            }
            wq.flush();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                expected.add(i);
            }
            assertEquals(expected, order);
            wq.destroy();
        }
    }

    @Test
    void delayedWorkFires() {
        try (RescuerSystem sys = system()) {
            WorkQueue wq = sys.workqueues().create("delayed", 0);
            Completion done = new Completion(sys.platform(), "done");
            DelayedWork dw = new DelayedWork("later", done::complete);
            assertTrue(wq.queueDelayed(dw, Duration.ofMillis(5)));
            assertTrue(dw.isPending());
            done.waitFor();
            wq.destroy();
        }
    }
}
