package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkControl;
import dev.rescuer.core.mm.Shrinker;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.sync.WaitQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * lockdep's classic cases and DEPT's, each from a run that completed: the tasks run one after the
 * other (each joined before the next starts), so no interleaving that hangs ever happens, and the
 * validator must find the cycle from the dependencies alone.
 */
class ValidatorTest extends RealThreadsFixture {

    private static List<String> classNames(PotentialCycle c) {
        return c.classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList());
    }

    @Test
    void abbaAcrossTwoTasksIsACycle() {
        Mutex a = new Mutex(platform, "a0", "A");
        Mutex b = new Mutex(platform, "b0", "B");
        run("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        run("t2", () -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });

        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("A", "B"), classNames(cycles.get(0)));
        assertEquals(List.of("t1", "t2"), cycles.get(0).tasks().stream().sorted().toList());
        String report = validator.report();
        assertTrue(report.contains("WARNING: possible circular dependency detected"), report);
        assertTrue(report.contains("task t1 acquired B (write) while holding A (write)"), report);
        assertTrue(report.contains("at dev.rescuer.check.ValidatorTest.lambda$abbaAcrossTwoTasksIsACycle"), report);
        assertTrue(report.contains("CPU0") && report.contains("CPU1") && report.contains("*** DEADLOCK ***"), report);
    }

    @Test
    void oneOrderEverywhereIsNoCycle() {
        Mutex a = new Mutex(platform, "a0", "A");
        Mutex b = new Mutex(platform, "b0", "B");
        run("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        run("t2", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        assertEquals(List.of(), validator.potentialCycles());
        assertEquals(1, validator.dependencies().size());
    }

    @Test
    void classesNotInstancesMakeTheCycle() {
        // Two instances of each class, taken in opposite orders: lockdep reasons about classes.
        Mutex a1 = new Mutex(platform, "a1", "A");
        Mutex a2 = new Mutex(platform, "a2", "A");
        Mutex b1 = new Mutex(platform, "b1", "B");
        Mutex b2 = new Mutex(platform, "b2", "B");
        run("t1", () -> { a1.lock(); b1.lock(); b1.unlock(); a1.unlock(); });
        run("t2", () -> { b2.lock(); a2.lock(); a2.unlock(); b2.unlock(); });
        assertEquals(1, validator.potentialCycles().size(), validator::report);
    }

    @Test
    void abBcCaAcrossThreeTasksIsOneCycleOfThree() {
        Mutex a = new Mutex(platform, "A");
        Mutex b = new Mutex(platform, "B");
        Mutex c = new Mutex(platform, "C");
        run("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        run("t2", () -> { b.lock(); c.lock(); c.unlock(); b.unlock(); });
        run("t3", () -> { c.lock(); a.lock(); a.unlock(); c.unlock(); });

        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(3, cycles.get(0).links().size());
        assertEquals(List.of("A", "B", "C"), classNames(cycles.get(0)));
        assertTrue(validator.report().contains("CPU2"), validator::report);
    }

    @Test
    void sameClassNestedIsRecursiveLockingUnlessASubclassSaysSo() {
        Mutex parent = new Mutex(platform, "dir", "&inode->i_rwsem");
        Mutex child = new Mutex(platform, "file", "&inode->i_rwsem");
        run("rename", () -> { parent.lock(); child.lock(); child.unlock(); parent.unlock(); });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(1, cycles.get(0).links().size());
        assertTrue(validator.report().contains("possible recursive locking detected"), validator::report);

        Validator annotated = Validator.attach(platform);
        run("rename", () -> { parent.lock(); child.lockNested(1); child.unlock(); parent.unlock(); });
        assertEquals(List.of(), annotated.potentialCycles(), annotated::report);
        assertEquals("&inode->i_rwsem/1", annotated.dependencies().get(0).to().toString());
    }

    @Test
    void waitingOnACompletionWhileHoldingALockItsSignallerNeedsIsACycle() {
        // DEPT's case: the waiter holds A and waits for C; C's signaller takes A before complete().
        Mutex a = new Mutex(platform, "A");
        Completion done = new Completion(platform, "req0/done", "&req->done");
        run("signaller", () -> { a.lock(); a.unlock(); done.complete(); });
        run("waiter", () -> { a.lock(); done.waitFor(); a.unlock(); }); // consumes at once: no hang

        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("&req->done", "A"), classNames(cycles.get(0)));
        String report = validator.report();
        assertTrue(report.contains("task waiter waited on &req->done (completion) while holding A (write)"), report);
        assertTrue(report.contains("task signaller signalled &req->done (completion) after acquiring A (write)"), report);
    }

    @Test
    void waitingOnACompletionWithoutTheLockIsNoCycle() {
        Mutex a = new Mutex(platform, "A");
        Completion done = new Completion(platform, "req0/done", "&req->done");
        run("signaller", () -> { a.lock(); a.unlock(); done.complete(); });
        run("waiter", () -> { done.waitFor(); a.lock(); a.unlock(); });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    @Test
    void aSignalOwesNothingToWhatItsTaskDidBeforeTheContextBegan() {
        Mutex a = new Mutex(platform, "A");
        Completion done = new Completion(platform, "req0/done", "&req->done");
        run("signaller", () -> {
            a.lock();
            a.unlock();
            platform.lockEvents().contextBoundary(platform.currentTask()); // a new work item, say
            done.complete();
        });
        run("waiter", () -> { a.lock(); done.waitFor(); a.unlock(); });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /**
     * dm-bufio's shape (the false positive S4b's fixed variant showed): a task holding A inserts a
     * buffer only it will read, requests the read's wake-up, and wakes the waiters; another task
     * holding A waits for such a read. No waiter can wait before the request, and A was held since
     * before it, so with the request there is no cycle; without it, A -> read -> A is reported.
     */
    @Test
    void aWakeUpAfterARequestOwesNothingToWhatItsTaskHeldBeforeTheRequest() {
        for (boolean request : new boolean[] {true, false}) {
            Validator v = Validator.attach(platform);
            Mutex a = new Mutex(platform, "A");
            Mutex b = new Mutex(platform, "B");
            WaitQueue read = new WaitQueue(platform, "c/buffer_read", "dm_buffer read");
            run("reader", () -> {
                a.lock();
                if (request) {
                    read.requestEvent();
                }
                b.lock(); // taken after the request: a dependency of the wake-up either way
                b.unlock();
                read.wakeUpAll();
                a.unlock();
            });
            run("waiter", () -> { a.lock(); read.waitEvent(() -> true); a.unlock(); });
            run("b-holder", () -> { b.lock(); read.waitEvent(() -> true); b.unlock(); });
            List<List<String>> found = v.potentialCycles().stream().map(ValidatorTest::classNames).toList();
            if (request) {
                assertEquals(List.of(List.of("B", "dm_buffer read")), found, v::report);
            } else {
                assertEquals(List.of(List.of("A", "dm_buffer read"), List.of("B", "dm_buffer read")), found, v::report);
            }
        }
    }

    /** A request is used up by its signal: the next wake-up without one has its whole context again. */
    @Test
    void aRequestCoversOnlyTheNextSignal() {
        Mutex a = new Mutex(platform, "A");
        WaitQueue wq = new WaitQueue(platform, "q", "Q");
        run("signaller", () -> {
            a.lock();
            wq.requestEvent();
            wq.wakeUp(); // owes nothing to A
            wq.wakeUp(); // owes A: no request this time
            a.unlock();
        });
        run("waiter", () -> { a.lock(); wq.waitEvent(() -> true); a.unlock(); });
        assertEquals(1, validator.potentialCycles().size(), validator::report);
    }

    @Test
    void semaphoreTakenUnderALockItsUpperNeedsIsACycle() {
        Mutex a = new Mutex(platform, "A");
        Semaphore slots = new Semaphore(platform, "slots", 1);
        run("taker", () -> { a.lock(); slots.down(); a.unlock(); });
        run("giver", () -> { a.lock(); a.unlock(); slots.up(); });
        assertEquals(1, validator.potentialCycles().size(), validator::report);
    }

    @Test
    void readAfterReadAcrossTwoTasksIsADependencyOnlyWhenAWriterExists() {
        // S1's shape: the waiter read-holds R and waits on E; E's signaller read-acquires R first.
        RwSemaphore r = new RwSemaphore(platform, "_origins_lock");
        WaitQueue e = new WaitQueue(platform, "cow_wait");
        run("signaller", () -> { r.downRead(); r.upRead(); e.wakeUp(); });
        run("waiter", () -> { r.downRead(); e.waitEvent(() -> true); r.upRead(); });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);

        run("lvcreate", () -> { r.downWrite(); r.upWrite(); });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertTrue(validator.report().contains("a writer of _origins_lock queues here"), validator::report);
    }

    @Test
    void allocatingFromAMempoolWhileHoldingALockItsFreerNeedsIsACycle() {
        Mutex a = new Mutex(platform, "A");
        Mempool<Object> pool = Mempool.create(platform, "bioset", 1, new Mempool.Source<>() {
            @Override public Object allocate(Gfp gfp) { return new Object(); }
            @Override public void free(Object element) { }
        });
        Object[] element = new Object[1];
        run("submitter", () -> { a.lock(); element[0] = pool.allocate(Gfp.NOIO); a.unlock(); });
        run("endio", () -> { a.lock(); a.unlock(); pool.free(element[0]); });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("A", "mempool bioset"), classNames(cycles.get(0)));
    }

    private Mempool<Object> objectPool(String name) {
        return Mempool.create(platform, name, 2, new Mempool.Source<>() {
            @Override public Object allocate(Gfp gfp) { return new Object(); }
            @Override public void free(Object element) { }
        });
    }

    /**
     * dm-crypt before 7145c241a1bf: a request takes two elements of the page pool one at a time, with
     * nothing serialising the requests, so two requests can each hold one and wait for the other's.
     * With every such allocation under one mutex ({@code bio_alloc_lock}, lockdep's nest_lock) it is
     * none; nor is an element handed on (a bio dispatched to its device) before the next allocation.
     */
    @Test
    void aSecondAllocationFromAMempoolWhileHoldingItsElementIsARecursiveWaitUnlessALockSerialisesIt() {
        Mempool<Object> unserialised = objectPool("page_pool");
        run("kcryptd", () -> {
            Object first = unserialised.allocate(Gfp.NOIO);
            Object second = unserialised.allocate(Gfp.NOIO);
            unserialised.free(second);
            unserialised.free(first);
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("mempool page_pool"), classNames(cycles.get(0)));
        assertTrue(validator.report().contains("possible recursive locking detected"), validator::report);

        Validator v = Validator.attach(platform);
        Mutex lock = new Mutex(platform, "&cc->bio_alloc_lock");
        Mempool<Object> serialised = objectPool("serialised_pool");
        Mempool<Object> handedOn = objectPool("handed_on_pool");
        for (String task : new String[] {"kcryptd/0", "kcryptd/1"}) {
            List<Object> pages = new ArrayList<>();
            List<Object> bios = new ArrayList<>();
            run(task, () -> {
                lock.lock();
                pages.add(serialised.allocate(Gfp.NOIO));
                pages.add(serialised.allocate(Gfp.NOIO));
                lock.unlock();
                Object bio = handedOn.allocate(Gfp.NOIO);
                handedOn.handOn(bio); // submitted: the device frees it
                bios.add(bio);
                bios.add(handedOn.allocate(Gfp.NOIO));
            });
            run("endio", () -> { // the write's completion, in its own context
                pages.forEach(serialised::free);
                bios.forEach(handedOn::free);
            });
        }
        assertEquals(List.of(), v.potentialCycles(), v::report);
    }

    @Test
    void aTryLockAddsNoDependencyOfItsOwn() {
        Mutex a = new Mutex(platform, "A");
        Mutex b = new Mutex(platform, "B");
        run("t1", () -> { a.lock(); assertTrue(b.tryLock()); b.unlock(); a.unlock(); });
        run("t2", () -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    @Test
    void aTimedWaitIsNoDependency() {
        Mutex a = new Mutex(platform, "A");
        Completion done = new Completion(platform, "done");
        run("signaller", () -> { a.lock(); a.unlock(); done.complete(); });
        run("waiter", () -> { a.lock(); done.waitFor(java.time.Duration.ofSeconds(30)); a.unlock(); });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /** A page cache whose shrinker waits for a completion, as {@code wait_on_page_writeback} does. */
    private static final class WaitingShrinker implements Shrinker {
        final Completion written;
        final List<Pages> cached = new ArrayList<>();

        WaitingShrinker(Completion written) {
            this.written = written;
        }

        @Override public String name() { return "waiting"; }
        @Override public long count(ShrinkControl control) { return cached.size(); }

        @Override
        public long scan(ShrinkControl control) {
            written.waitFor();
            int n = cached.size();
            cached.forEach(Pages::free);
            cached.clear();
            return n;
        }
    }

    private RescuerSystem smallSystem() {
        return RescuerSystem.builder().platform(platform).withoutWorkqueues().totalPages(64).watermarks(4, 8, 12)
                .backgroundReclaim(false).pagesPerThread(0).hungTaskTimeout(java.time.Duration.ZERO).build();
    }

    private void reclaimWithTheShrinker(RescuerSystem sys, WaitingShrinker shrinker) {
        sys.pages().registerShrinker(shrinker);
        run("reclaimer", () -> {
            shrinker.cached.add(sys.pages().allocate(60, Gfp.KERNEL)); // down to the min watermark
            sys.pages().allocate(1, Gfp.KERNEL).free();                // direct reclaim runs the shrinker
        });
    }

    @Test
    void aShrinkerWaitingOnWhatAGfpKernelAllocationSignalsIsACycleThroughFsReclaim() {
        try (RescuerSystem sys = smallSystem()) {
            Completion written = new Completion(platform, "writeback#0", "page-writeback");
            WaitingShrinker shrinker = new WaitingShrinker(written);
            run("writeback", () -> { sys.pages().allocate(1, Gfp.KERNEL).free(); written.complete(); });
            reclaimWithTheShrinker(sys, shrinker);
            List<PotentialCycle> cycles = validator.potentialCycles();
            assertEquals(1, cycles.size(), validator::report);
            assertEquals(List.of("fs_reclaim", "page-writeback"), classNames(cycles.get(0)));
        }
    }

    @Test
    void theSameAllocationUnderNoioIsNoCycle() {
        try (RescuerSystem sys = smallSystem()) {
            Completion written = new Completion(platform, "writeback#0", "page-writeback");
            WaitingShrinker shrinker = new WaitingShrinker(written);
            run("writeback", () -> {
                try (MemallocScope noio = MemallocScope.noio(platform)) {
                    sys.pages().allocate(1, Gfp.KERNEL).free();
                }
                written.complete();
            });
            reclaimWithTheShrinker(sys, shrinker);
            assertEquals(List.of(), validator.potentialCycles(), validator::report);
            assertTrue(validator.dependencies().stream().anyMatch(d -> d.from().name().equals("fs_reclaim")
                    && d.to().name().equals("page-writeback")), "the shrinker ran inside fs_reclaim");
        }
    }

    @Test
    void withoutAValidatorNothingIsRecorded() {
        validator.detachFrom(platform);
        Mutex a = new Mutex(platform, "A");
        Mutex b = new Mutex(platform, "B");
        run("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        assertEquals(List.of(), validator.dependencies());
        assertEquals(null, platform.lockEvents());
    }
}
