package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.MemallocScope;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Memalloc scopes are per task and do not follow an item to the worker that runs it, as in the
 * kernel: an item queued from a {@code NOIO} section runs with the worker's own (empty) scope.
 */
class MemallocScopeWorkTest {

    @Test
    void scopesOfTheQueueingTaskDoNotFollowTheItem() {
        try (RescuerSystem sys = system(2)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue percpu = wqs.create("scoped", 0);
            WorkQueue unbound = wqs.create("scoped_unbound", 0, WqFlag.UNBOUND);
            WorkQueue reclaim = wqs.create("scoped_reclaim", 0, WqFlag.MEM_RECLAIM);
            WorkQueue bh = wqs.systemBhWq();
            Map<String, Integer> flagsSeen = new ConcurrentHashMap<>();
            Map<String, Boolean> mayIo = new ConcurrentHashMap<>();
            WorkQueue[] queues = {percpu, unbound, reclaim, bh};
            Work[] items = new Work[queues.length];
            for (int i = 0; i < queues.length; i++) {
                String name = "probe_" + queues[i].name();
                items[i] = new Work(name, () -> {
                    flagsSeen.put(name, sys.platform().currentTask().memallocFlags());
                    mayIo.put(name, MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayIo());
                });
            }
            try (MemallocScope noio = MemallocScope.noio(sys.platform());
                 MemallocScope noreclaim = MemallocScope.noreclaim(sys.platform())) {
                int mine = sys.platform().currentTask().memallocFlags();
                assertNotEquals(0, mine & MemallocScope.NOIO, "the queueing task is in a NOIO scope");
                assertFalse(MemallocScope.currentContext(sys.platform(), Gfp.KERNEL).mayIo());
                for (int i = 0; i < queues.length; i++) {
                    assertTrue(queues[i].queue(items[i]));
                }
                assertEquals(mine, sys.platform().currentTask().memallocFlags(), "the queueing task keeps its scope");
            }
            for (Work w : items) {
                w.flush(); // outside the scopes: a NORECLAIM task flushing these queues would be warned about
            }
            assertEquals(queues.length, flagsSeen.size());
            flagsSeen.forEach((name, flags) -> assertEquals(0, flags, name + " ran with the queueing task's scope"));
            mayIo.forEach((name, io) -> assertTrue(io, name + ": GFP_KERNEL inside the item may start I/O"));
            percpu.destroy();
            unbound.destroy();
            reclaim.destroy();
        }
    }

    @Test
    void aScopeOpenedByAnItemDoesNotLeakIntoTheNextItemOnTheWorker() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("scope_leak", 0);
            AtomicInteger inside = new AtomicInteger(-1);
            AtomicInteger next = new AtomicInteger(-1);
            Work opener = new Work("opener", () -> {
                try (MemallocScope s = MemallocScope.nofs(sys.platform())) {
                    inside.set(sys.platform().currentTask().memallocFlags());
                }
            });
            Work after = new Work("after", () -> next.set(sys.platform().currentTask().memallocFlags()));
            assertTrue(wq.queue(opener));
            assertTrue(wq.queue(after));
            wq.flush();
            assertEquals(MemallocScope.NOFS, inside.get());
            assertEquals(0, next.get());
            wq.destroy();
        }
    }
}
