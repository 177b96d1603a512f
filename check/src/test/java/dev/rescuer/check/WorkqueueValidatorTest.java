package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** lockdep's workqueue annotations, from runs that completed. */
class WorkqueueValidatorTest {

    private RealPlatform platform;
    private Validator validator;
    private RescuerSystem sys;

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        validator = Validator.attach(platform);
        sys = RescuerSystem.builder().platform(platform).pagesPerThread(0).hungTaskTimeout(Duration.ZERO).build();
    }

    @AfterEach
    void tearDown() {
        sys.close();
        platform.close();
    }

    private void run(String name, Runnable body) {
        Task t = platform.startThread(name, body);
        platform.join(t);
        assertNull(t.failure(), name + " failed");
    }

    private static List<String> classes(PotentialCycle c) {
        return c.classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList());
    }

    @Test
    void flushingAnItemWhileHoldingALockTheItemTakesIsACycle() {
        Mutex a = new Mutex(platform, "A");
        WorkQueue wq = sys.workqueues().create("events_test", 0);
        Work item = new Work("needs_a", () -> { a.lock(); a.unlock(); });
        run("flusher", () -> {
            wq.queue(item);
            item.flush();      // the item has run: nothing hangs
            a.lock();
            item.flush();      // idle, but __flush_work's annotation still records A -> the item
            a.unlock();
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(work_completion)needs_a", "A"), classes(cycles.get(0)));
    }

    @Test
    void flushingTheQueueWhileHoldingALockOneOfItsItemsTakesIsACycle() {
        Mutex a = new Mutex(platform, "A");
        WorkQueue wq = sys.workqueues().create("events_test", 0);
        run("flusher", () -> {
            wq.queue(new Work("needs_a", () -> { a.lock(); a.unlock(); }));
            wq.flush();
            a.lock();
            wq.flush();
            a.unlock();
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)events_test", "A"), classes(cycles.get(0)));
    }

    @Test
    void onAnOrderedQueueAnItemWaitingForALaterItemIsACycle() {
        WorkQueue wq = sys.workqueues().createOrdered("ordered_test");
        Completion done = new Completion(platform, "done");
        Work signaller = new Work("signaller", done::complete);
        Work waiter = new Work("waiter", done::waitFor);
        run("queuer", () -> {
            wq.queue(signaller); // runs first, so the waiter finds it done
            wq.queue(waiter);
            wq.flush();
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)ordered_test", "done"), classes(cycles.get(0)));
    }

    @Test
    void onAConcurrencyManagedQueueItemsMayWaitForEachOther() {
        for (WqFlag[] flags : List.of(new WqFlag[0], new WqFlag[] {WqFlag.MEM_RECLAIM})) {
            Validator v = Validator.attach(platform);
            WorkQueue wq = sys.workqueues().create("cmwq_test" + flags.length, 0, flags);
            Completion done = new Completion(platform, "done");
            run("queuer", () -> {
                wq.queue(new Work("signaller", done::complete));
                wq.flush();
                wq.queue(new Work("waiter", done::waitFor));
                wq.flush();
            });
            assertEquals(List.of(), v.potentialCycles(), v::report);
        }
    }
}
