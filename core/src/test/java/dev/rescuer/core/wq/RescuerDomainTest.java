package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** Rescuer domains on real threads: one rescuer for several queues, with the kernel's per-item semantics. */
class RescuerDomainTest {

    @Test
    void queuesOfADomainShareOneRescuerThread() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            RescuerDomain d = wqs.createRescuerDomain("dm-stacks");
            WorkQueue a = wqs.create("kcryptd/a", 0, d, WqFlag.MEM_RECLAIM);
            WorkQueue b = wqs.createOrdered("kcopyd/b", d, WqFlag.MEM_RECLAIM);
            WorkQueue own = wqs.create("own", 0, WqFlag.MEM_RECLAIM);
            assertTrue(a.hasRescuer());
            assertSame(d, a.rescuerDomain());
            assertSame(d, b.rescuerDomain());
            assertNull(own.rescuerDomain());
            assertSame(d.rescuerTask(), a.rescuerTask());
            assertSame(d.rescuerTask(), b.rescuerTask());
            assertEquals("kworker/R-dm-stacks", d.rescuerTask().name());
            assertNotSame(d.rescuerTask(), own.rescuerTask());
            assertEquals(List.of("kcryptd/a", "kcopyd/b"), d.queueNames());
            assertSame(d, wqs.rescuerDomain("dm-stacks"));
            assertEquals(2, wqs.rescuerThreads(), "one for the domain, one for the queue outside it");
            Task shared = d.rescuerTask();
            a.destroy();
            assertFalse(shared.hasExited(), "destroying one member leaves the rescuer to the others");
            assertEquals(List.of("kcopyd/b"), d.queueNames());
            b.destroy();
            own.destroy();
            sys.close();
            assertTrue(shared.hasExited(), "the subsystem's close stops the domain's rescuer");
        }
    }

    @Test
    void badDomainArgumentsAreRefusedAtTheCall() {
        try (RescuerSystem sys = system(1); RescuerSystem other = system(1)) {
            Workqueues wqs = sys.workqueues();
            RescuerDomain d = wqs.createRescuerDomain("d");
            IllegalArgumentException dup = assertThrows(IllegalArgumentException.class, () -> wqs.createRescuerDomain("d"));
            assertEquals("rescuer domain d already exists", dup.getMessage());
            assertThrows(IllegalArgumentException.class, () -> wqs.createRescuerDomain(" "));
            IllegalArgumentException noReclaim = assertThrows(IllegalArgumentException.class, () -> wqs.create("q", 0, d));
            assertEquals("workqueue q: rescuer domain d given without MEM_RECLAIM (only memory-reclaim queues have a rescuer)",
                    noReclaim.getMessage());
            RescuerDomain foreign = other.workqueues().createRescuerDomain("f");
            IllegalArgumentException alien = assertThrows(IllegalArgumentException.class,
                    () -> wqs.createOrdered("q", foreign, WqFlag.MEM_RECLAIM));
            assertEquals("workqueue q: rescuer domain f belongs to another workqueue subsystem", alien.getMessage());
        }
    }

    /** Runs {@code body} while every page is taken, so that no worker can be created. */
    private static void withoutMemory(RescuerSystem sys, Runnable body) {
        PageAllocator pages = sys.pages();
        List<Pages> hog = new ArrayList<>();
        for (Pages p; (p = pages.tryAllocate(1, Gfp.ATOMIC.with(Gfp.Modifier.MEMALLOC, Gfp.Modifier.NOWARN))) != null; ) {
            hog.add(p);
        }
        try {
            assertEquals(0, pages.freePages());
            body.run();
        } finally {
            hog.forEach(Pages::free);
        }
    }

    private static RescuerSystem starvedSystem(int batch) {
        WorkqueueConfig cfg = WorkqueueConfig.defaults().withCpus(1).withCreateCooldown(Duration.ofMillis(20)).withRescuerBatch(batch);
        return RescuerSystem.builder().totalPages(512).pagesPerThread(4).reclaimRetries(0)
                .retryBackoff(Duration.ofMillis(1)).workqueues(cfg).build();
    }

    @Test
    void aSharedRescuerRunsIndependentQueuesItemsOneAtATimeWhenNoWorkerCanBeCreated() {
        try (RescuerSystem sys = starvedSystem(16)) {
            Workqueues wqs = sys.workqueues();
            RescuerDomain d = wqs.createRescuerDomain("shared");
            WorkQueue a = wqs.create("qa", 0, d, WqFlag.MEM_RECLAIM);
            WorkQueue b = wqs.create("qb", 0, d, WqFlag.MEM_RECLAIM);
            int n = 3;
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger maxInBody = new AtomicInteger();
            Set<String> ranOn = ConcurrentHashMap.newKeySet();
            withoutMemory(sys, () -> {
                long rescued0 = wqs.stats().rescued();
                for (int i = 0; i < n; i++) {
                    for (WorkQueue q : List.of(a, b)) {
                        assertTrue(q.queue(new Work(q.name() + "#" + i, () -> {
                            raise(maxInBody, inBody.incrementAndGet());
                            ranOn.add(wqs.platform().currentTask().name());
                            runs.incrementAndGet();
                            inBody.decrementAndGet();
                        })));
                    }
                }
                Poll.until("both queues' items are rescued", () -> runs.get() == 2 * n);
                assertEquals(Set.of("kworker/R-shared"), ranOn);
                assertEquals(1, maxInBody.get(), "a shared rescuer runs one item at a time");
                assertTrue(wqs.stats().rescued() - rescued0 >= 2L * n, wqs.stats().toString());
            });
            a.destroy();
            b.destroy();
        }
    }

    private static final int BATCH = 2;

    @Test
    void batchingKeepsOneQueueFromStarvingTheOthersOfTheDomain() {
        List<String> order = rescueOrder(false);
        int at = order.indexOf("quiet#0");
        assertTrue(at <= BATCH, "after " + BATCH + " items of busy the rescuer must turn to quiet; order " + order);
    }

    /**
     * The mayday timer puts busy's pwq back on the list while the rescuer runs busy's first batch
     * (busy still has items on the worklist), and it does so ahead of quiet, which asks only after the
     * batch began. The batch's end must still put busy behind quiet. Before the fix, busy kept its
     * place and ran a second batch first (quiet#0 ran fifth).
     */
    @Test
    void aBatchEndsBehindAQueueThatAskedWhileItRan() {
        List<String> order = rescueOrder(true);
        assertEquals(BATCH, order.indexOf("quiet#0"), "quiet runs right after busy's first batch; order " + order);
    }

    /**
     * Ten items of {@code busy} and one of {@code quiet}, both in one domain, rescued with no worker
     * to be had, batches of {@link #BATCH}; the order they ran in. The rescuer is held in busy#0 until
     * quiet's mayday is on the list, so the batch, not the mayday timer's timing, decides when it turns
     * to quiet. With {@code quietAsksDuringTheBatch}, quiet is queued only once busy#0 runs, and busy#0
     * also waits until the timer has put busy back on the list (ahead of quiet).
     */
    private static List<String> rescueOrder(boolean quietAsksDuringTheBatch) {
        int many = 10;
        try (RescuerSystem sys = starvedSystem(BATCH)) {
            Workqueues wqs = sys.workqueues();
            RescuerDomain d = wqs.createRescuerDomain("shared");
            WorkQueue busy = wqs.create("busy", 0, d, WqFlag.MEM_RECLAIM);
            WorkQueue quiet = wqs.create("quiet", 0, d, WqFlag.MEM_RECLAIM);
            List<String> order = new CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean firstRunning = new java.util.concurrent.atomic.AtomicBoolean();
            withoutMemory(sys, () -> {
                for (int i = 0; i < many; i++) {
                    String name = "busy#" + i;
                    boolean first = i == 0;
                    assertTrue(busy.queue(new Work(name, () -> {
                        if (first) {
                            firstRunning.set(true);
                            Poll.until("quiet's mayday" + (quietAsksDuringTheBatch ? ", after busy's" : ""),
                                    () -> d.rescuer().hasMaydayFor(quiet) && (!quietAsksDuringTheBatch || d.rescuer().hasMaydayFor(busy)));
                        }
                        order.add(name);
                    })));
                }
                if (quietAsksDuringTheBatch) {
                    Poll.until("the rescuer runs busy#0", firstRunning::get);
                }
                assertTrue(quiet.queue(new Work("quiet#0", () -> order.add("quiet#0"))));
                Poll.until("every item is rescued", () -> order.size() == many + 1);
            });
            busy.destroy();
            quiet.destroy();
            return order;
        }
    }

    /**
     * Two stacked queues (the upper item waits for a lower item) in two domains complete without any
     * worker: each domain's rescuer runs its own layer. (In one domain they hang; the simulator's
     * explorer finds that, see the analyze module's tests.)
     */
    @Test
    void stackedQueuesInTwoDomainsCompleteWithoutWorkers() {
        try (RescuerSystem sys = starvedSystem(16)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue lower = wqs.create("lower", 0, wqs.createRescuerDomain("bottom"), WqFlag.MEM_RECLAIM);
            WorkQueue upper = wqs.create("upper", 0, wqs.createRescuerDomain("top"), WqFlag.MEM_RECLAIM);
            Completion done = new Completion(sys.platform(), "upper done", "test");
            List<String> ranOn = new CopyOnWriteArrayList<>();
            Consumer<String> record = who -> ranOn.add(who + "@" + wqs.platform().currentTask().name());
            withoutMemory(sys, () -> {
                assertTrue(upper.queue(new Work("upper#0", () -> {
                    Completion lowerDone = new Completion(sys.platform(), "lower done", "test");
                    assertTrue(lower.queue(new Work("lower#0", () -> {
                        record.accept("lower");
                        lowerDone.complete();
                    })));
                    lowerDone.waitFor();
                    record.accept("upper");
                    done.complete();
                })));
                done.waitFor();
            });
            assertEquals(List.of("lower@kworker/R-bottom", "upper@kworker/R-top"), ranOn);
            upper.destroy();
            lower.destroy();
        }
    }
}
