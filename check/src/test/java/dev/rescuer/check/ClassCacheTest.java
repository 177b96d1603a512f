package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The class cached on each primitive ({@link dev.rescuer.core.platform.AbstractPrimitive#classCache()})
 * changes nothing but speed: one class per name and subclass, whenever the instance was created and
 * whichever validator looked at it before.
 */
class ClassCacheTest extends RealThreadsFixture {

    private static List<String> names(List<LockClass> classes) {
        return classes.stream().map(c -> c.id() + ":" + c).collect(Collectors.toList());
    }

    private static List<String> edges(Validator v) {
        return v.dependencies().stream().map(d -> d.from() + "->" + d.to()).collect(Collectors.toList());
    }

    @Test
    void aSecondValidatorNeverTakesTheFirstOnesClasses() {
        Mutex a = new Mutex(platform, "a0", "A");
        Mutex b = new Mutex(platform, "b0", "B");
        run("t1", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        run("t2", () -> { b.lock(); a.lock(); a.unlock(); b.unlock(); });
        assertEquals(1, validator.potentialCycles().size(), validator::report);

        // Installed after: a and b carry the first validator's classes in their caches.
        Validator second = Validator.attach(platform);
        run("t3", () -> { a.lock(); b.lock(); b.unlock(); a.unlock(); });
        assertEquals(List.of("0:A", "1:B"), names(second.classes()));
        assertEquals(List.of("A->B"), edges(second), "the edge is recorded anew, in the second graph");
        for (Dependency d : second.dependencies()) {
            assertTrue(second.classes().contains(d.from()) && second.classes().contains(d.to()), d::describe);
        }
        assertEquals(List.of(), second.potentialCycles(), second::report);
        assertEquals(List.of("A->B", "B->A"), edges(validator), "the first graph is unchanged");
    }

    @Test
    void instancesCreatedBeforeAndAfterTheValidatorAndSeenByAnotherShareOneClass() {
        Mutex before = new Mutex(platform, "c0", "C");
        Mutex x = new Mutex(platform, "X");
        run("seen-by-the-first", () -> { before.lock(); before.unlock(); }); // caches the first's C on it
        Validator v = Validator.attach(platform);
        Mutex after = new Mutex(platform, "c1", "C");
        run("t1", () -> { before.lock(); x.lock(); x.unlock(); before.unlock(); });
        run("t2", () -> { x.lock(); after.lock(); after.unlock(); x.unlock(); });
        assertEquals(List.of("0:C", "1:X"), names(v.classes()));
        assertEquals(1, v.potentialCycles().size(), v::report);
    }

    @Test
    void aSubclassIsItsOwnClassWhateverTheCacheHolds() {
        Mutex parent = new Mutex(platform, "dir", "I");
        Mutex child = new Mutex(platform, "file", "I");
        Mutex y = new Mutex(platform, "Y");
        run("t1", () -> {
            child.lock();              // caches I on child
            child.unlock();
            parent.lock();
            child.lockNested(1);       // I/1, not the cached I
            child.unlock();
            parent.unlock();
            child.lock();              // I again, not I/1
            y.lock();
            y.unlock();
            child.unlock();
        });
        assertEquals(List.of("0:I", "1:I/1", "2:Y"), names(validator.classes()));
        assertEquals(List.of("I->I/1", "I->Y"), edges(validator));
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    @Test
    void twoWorkItemsOfOneNameAreOneClass() {
        try (RescuerSystem sys = RescuerSystem.builder().platform(platform).pagesPerThread(0)
                .hungTaskTimeout(Duration.ZERO).build()) {
            Mutex a = new Mutex(platform, "A");
            WorkQueue wq = sys.workqueues().create("events_test", 0);
            Work takesA = new Work("w", () -> { a.lock(); a.unlock(); });
            Work other = new Work("w", () -> { });
            run("flusher", () -> {
                wq.queue(takesA);
                takesA.flush();
                a.lock();
                wq.queue(other);
                other.flush(); // another instance, the same class: A -> (work_completion)w -> A
                a.unlock();
            });
            List<PotentialCycle> cycles = validator.potentialCycles();
            assertEquals(1, cycles.size(), validator::report);
            List<LockClass> work = validator.classes().stream()
                    .filter(c -> c.name().equals("(work_completion)w")).collect(Collectors.toList());
            assertEquals(1, work.size(), () -> names(validator.classes()).toString());
            assertSame(work.get(0), takesA.classCache());
            assertSame(work.get(0), other.classCache());
        }
    }
}
