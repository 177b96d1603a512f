package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** Rescuers: who has one, what it is called, and that it runs only its own queue's items. */
class RescuerTest {

    @Test
    void systemQueuesHaveNoRescuer() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            for (WorkQueue q : List.of(wqs.systemWq(), wqs.systemHighpriWq(), wqs.systemLongWq(), wqs.systemUnboundWq(),
                    wqs.systemBhWq(), wqs.systemBhHighpriWq())) {
                assertFalse(q.hasRescuer(), q.name());
                assertNull(q.rescuerTask(), q.name());
            }
            assertEquals("events", wqs.systemWq().name());
            assertEquals("events_highpri", wqs.systemHighpriWq().name());
            assertEquals("events_long", wqs.systemLongWq().name());
            assertEquals("events_unbound", wqs.systemUnboundWq().name());
            assertTrue(wqs.systemUnboundWq().flags().contains(WqFlag.UNBOUND));
            assertTrue(sys.platform().tasks().stream().noneMatch(t -> t.name().startsWith("kworker/R-")),
                    "no rescuer thread exists before a MEM_RECLAIM queue is created");
        }
    }

    @Test
    void memReclaimQueueOwnsARescuerTaskUntilDestroyed() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue q = wqs.create("blkio", 0, WqFlag.MEM_RECLAIM);
            WorkQueue ord = wqs.createOrdered("journal", WqFlag.MEM_RECLAIM);
            WorkQueue plain = wqs.create("plain", 0);
            assertTrue(q.hasRescuer());
            assertTrue(ord.hasRescuer());
            assertFalse(plain.hasRescuer());
            assertNull(plain.rescuerTask());
            Task r = q.rescuerTask();
            Task ro = ord.rescuerTask();
            assertNotNull(r);
            assertEquals("kworker/R-blkio", r.name());
            assertEquals("kworker/R-journal", ro.name());
            assertTrue(sys.platform().tasks().contains(r), "the rescuer is a live task");
            Poll.until("the rescuer sleeps idle", () -> r.waitingOn() != null && r.waitingOn().isIdleWait());
            long created = wqs.stats().workersCreated();
            q.destroy();
            assertTrue(r.hasExited(), "destroy stops the rescuer and waits for it");
            assertFalse(sys.platform().tasks().contains(r));
            assertFalse(ro.hasExited());
            ord.destroy();
            assertTrue(ro.hasExited());
            assertEquals(created, wqs.stats().workersCreated(), "rescuers are not pool workers");
            plain.destroy();
        }
    }

    @Test
    void aRescuerRunsOnlyItsOwnQueuesItems() {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCreateCooldown(Duration.ofMillis(20));
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(512).pagesPerThread(4).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).workqueues(cfg).build()) {
            Workqueues wqs = sys.workqueues();
            PageAllocator pages = sys.pages();
            WorkQueue plain = wqs.create("plainq", 0);
            WorkQueue reclaim = wqs.create("reclaimq", 0, WqFlag.MEM_RECLAIM);
            int n = 4;
            AtomicInteger plainRuns = new AtomicInteger();
            AtomicInteger reclaimRuns = new AtomicInteger();
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger maxInBody = new AtomicInteger();
            Set<String> reclaimRanOn = ConcurrentHashMap.newKeySet();
            List<Work> plainItems = new ArrayList<>();

            // No page left: the pool's only worker cannot create a spare, so it stays its manager and
            // runs nothing; only the mayday call to the rescuer can move anything.
            List<Pages> hog = new ArrayList<>();
            for (Pages p; (p = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
                hog.add(p);
            }
            try {
                assertEquals(0, pages.freePages());
                long rescued0 = wqs.stats().rescued();
                long failures0 = wqs.stats().workerCreationFailures();
                // The plain items go first, so a rescuer that took whatever waits on the pool would run them first.
                for (int i = 0; i < n; i++) {
                    Work w = new Work("plain" + i, plainRuns::incrementAndGet);
                    plainItems.add(w);
                    assertTrue(plain.queue(w));
                }
                for (int i = 0; i < n; i++) {
                    assertTrue(reclaim.queue(new Work("reclaim" + i, () -> {
                        raise(maxInBody, inBody.incrementAndGet());
                        reclaimRanOn.add(wqs.platform().currentTask().name());
                        reclaimRuns.incrementAndGet();
                        inBody.decrementAndGet();
                    })));
                }
                Poll.until("the reclaim queue's items are rescued", () -> reclaimRuns.get() == n);
                assertEquals(0, plainRuns.get(), "the rescuer ran another queue's items");
                for (Work w : plainItems) {
                    assertTrue(w.isPending(), w + " still waits for a worker");
                }
                assertEquals(Set.of("kworker/R-reclaimq"), reclaimRanOn);
                assertEquals(1, maxInBody.get(), "a rescuer runs one item at a time");
                assertTrue(wqs.stats().rescued() - rescued0 >= n, wqs.stats().toString());
                assertTrue(wqs.stats().maydays() > 0);
                assertTrue(wqs.stats().workerCreationFailures() > failures0);
            } finally {
                hog.forEach(Pages::free);
            }
            // Memory is back: a worker is created and the plain items run.
            Poll.until("plain items run once a worker can be created", () -> plainRuns.get() == n);
            plain.flush();
            reclaim.flush();
            plain.destroy();
            reclaim.destroy();
        }
    }
}
