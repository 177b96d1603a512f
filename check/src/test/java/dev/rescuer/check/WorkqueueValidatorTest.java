package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Platform;
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
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * The {@code shared-queue} hang: an item waits for an event deferred to another item of its own
     * queue, which has a rescuer. Under memory pressure the rescuer alone runs the queue's items, one
     * at a time, so the waiter holds the only runner the other item could get ({@code start_flush_work}
     * takes the queue's map when there is a rescuer: lockdep reports a flush of an item from an item of
     * the same rescued queue). Before waits followed the completer, this reported nothing.
     */
    @Test
    void onAQueueWithARescuerAnItemWaitingForAnEventDeferredToAnotherItemOfItsQueueIsACycle() {
        WorkQueue wq = sys.workqueues().create("reclaim_test", 0, WqFlag.MEM_RECLAIM);
        waitInAnItemForAnEventDeferredToAnotherItem(wq, wq);
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)reclaim_test", "bio-end-io"), classes(cycles.get(0)));
    }

    @Test
    void anItemWaitingForAnEventDeferredToAnItemOfAnotherRescuedQueueIsNoCycle() {
        WorkQueue writeback = sys.workqueues().create("writeback_test", 0, WqFlag.MEM_RECLAIM);
        WorkQueue endioQueue = sys.workqueues().create("endio_test", 0, WqFlag.MEM_RECLAIM);
        waitInAnItemForAnEventDeferredToAnotherItem(writeback, endioQueue);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /** An item of {@code waiterQueue} queues an end-io item on {@code endioQueue} and waits for the event deferred to it. */
    private void waitInAnItemForAnEventDeferredToAnotherItem(WorkQueue waiterQueue, WorkQueue endioQueue) {
        Completion done = new Completion(platform, "bio#0", "bio-end-io");
        Work endio = new Work("endio", done::complete);
        done.setOwner(new DeferredTo(endio));
        run("queuer", () -> {
            waiterQueue.queue(new Work("writeback", () -> {
                endioQueue.queue(endio);
                done.waitFor();
            }));
            waiterQueue.flush();
        });
    }

    /**
     * {@code reclaim-rescuer}'s {@code shared-queue} shape as the runtime shows it: an item of a rescued
     * queue waits on a {@code bio-end-io} while the bio is still on the device (its owner names no item
     * at the wait), and the bio's end-io item, which its owner names at the signal, completes it on the
     * same queue. Two instances of one class stand for the two moments. Before a signal from the named
     * item was followed, this reported nothing (the end-io item's own context holds the queue recursive).
     */
    @Test
    void onAQueueWithARescuerAnItemWaitingWhileTheEventIsOnTheDeviceIsACycleWhenTheNamedItemSignalsIt() {
        WorkQueue wq = sys.workqueues().create("reclaim_test", 0, WqFlag.MEM_RECLAIM);
        waitWhileOnTheDeviceThenSignalFromAnItem(wq, wq, endio -> endio);
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)reclaim_test", "bio-end-io"), classes(cycles.get(0)));
        assertTrue(validator.report().contains("its owner names the item as its completer"), validator::report);
    }

    /** The false-positive guard: an item's signal counts as the named completer's only if the owner names that item. */
    @Test
    void aSignalFromAnItemTheOwnerDoesNotNameAddsNoDependencyOnItsQueue() {
        WorkQueue wq = sys.workqueues().create("reclaim_test", 0, WqFlag.MEM_RECLAIM);
        waitWhileOnTheDeviceThenSignalFromAnItem(wq, wq, endio -> "the device");
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
        Work other = new Work("endio_other", () -> { });
        waitWhileOnTheDeviceThenSignalFromAnItem(wq, wq, endio -> other); // names an item, not the one signalling
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    @Test
    void theNamedItemOfAnotherRescuedQueueSignallingIsNoCycle() {
        WorkQueue writeback = sys.workqueues().create("writeback_test", 0, WqFlag.MEM_RECLAIM);
        WorkQueue endioQueue = sys.workqueues().create("endio_test", 0, WqFlag.MEM_RECLAIM);
        waitWhileOnTheDeviceThenSignalFromAnItem(writeback, endioQueue, endio -> endio);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /**
     * An item of {@code waiterQueue} waits on a {@code bio-end-io} its owner says the device completes
     * (the device does, before the wait); then an end-io item on {@code endioQueue} completes another
     * {@code bio-end-io} whose owner names {@code ownerNames.apply(endioItem)} at the signal.
     */
    private void waitWhileOnTheDeviceThenSignalFromAnItem(WorkQueue waiterQueue, WorkQueue endioQueue,
                                                          Function<Work, Object> ownerNames) {
        Completion inFlight = new Completion(platform, "bio#0", "bio-end-io");
        inFlight.setOwner(new DeferredTo("the device"));
        run("device", inFlight::complete);
        run("submitter", () -> {
            waiterQueue.queue(new Work("writeback", inFlight::waitFor));
            waiterQueue.flush();
        });
        Completion deferred = new Completion(platform, "bio#1", "bio-end-io");
        Work endio = new Work("endio", deferred::complete);
        deferred.setOwner(new DeferredTo(ownerNames.apply(endio)));
        run("irq", () -> {
            endioQueue.queue(endio);
            endioQueue.flush();
        });
    }

    /** An event whose completer, as its owner tells, is a work item ({@code Bio.deferEndio}) or something else. */
    private static final class DeferredTo implements HandedOnEvent {
        private final Object completer;

        DeferredTo(Object completer) {
            this.completer = completer;
        }

        @Override public Object completer() { return completer; }
        @Override public String describe() { return "end-io deferred to " + completer; }
    }

    private List<String> waitDependenciesOf(Validator v, String event) {
        return v.dependencies().stream()
                .filter(d -> d.type() == Dependency.Type.WAIT && d.from().name().equals(event))
                .map(d -> d.to().toString()).sorted().collect(Collectors.toList());
    }

    /** Waits on a completion owned by an event deferred to an item of {@code wq}, after the item ran. */
    private void waitForDeferredItem(Platform p, WorkQueue wq) {
        Completion written = new Completion(p, "writeback#0", "page-writeback");
        Work item = new Work("end_writeback", written::complete);
        written.setOwner(new DeferredTo(item));
        Task t = p.startThread("waiter", () -> {
            wq.queue(item);
            written.waitFor();
        });
        p.join(t);
        assertNull(t.failure());
    }

    /**
     * A wait for an event an item completes is a flush of that item ({@code check_flush_dependency}):
     * on a queue without a rescuer, where starting a worker allocates ({@code create_worker}), it also
     * depends on {@code fs_reclaim}; with a rescuer, on the queue (which may run it only on the
     * rescuer). Before waits followed the completer, none of these dependencies was recorded.
     */
    @Test
    void aWaitForAnEventAnItemCompletesDependsOnTheItemAndOnReclaimWithoutARescuer() {
        try (RealPlatform p = new RealPlatform();
             RescuerSystem costly = RescuerSystem.builder().platform(p).pagesPerThread(1)
                     .hungTaskTimeout(Duration.ZERO).build()) {
            Validator v = Validator.attach(p);
            waitForDeferredItem(p, costly.workqueues().create("writeback_test", 0));
            assertEquals(List.of("(work_completion)end_writeback", "fs_reclaim"), waitDependenciesOf(v, "page-writeback"));
        }
        try (RealPlatform p = new RealPlatform();
             RescuerSystem costly = RescuerSystem.builder().platform(p).pagesPerThread(1)
                     .hungTaskTimeout(Duration.ZERO).build()) {
            Validator v = Validator.attach(p);
            waitForDeferredItem(p, costly.workqueues().create("writeback_test", 0, WqFlag.MEM_RECLAIM));
            assertEquals(List.of("(work_completion)end_writeback", "(wq_completion)writeback_test"),
                    waitDependenciesOf(v, "page-writeback"));
        }
        // Starting a worker costs nothing here (pagesPerThread 0): no path into reclaim.
        waitForDeferredItem(platform, sys.workqueues().create("writeback_free", 0));
        assertEquals(List.of("(work_completion)end_writeback"), waitDependenciesOf(validator, "page-writeback"));
    }
}
