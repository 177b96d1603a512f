package dev.rescuer.sim;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lock words' fast paths against their slow paths, under the simulator so that every schedule
 * is reproducible from its seed: a release that finds waiters counted in the word hands the lock on
 * (a newcomer may take it first, the woken waiter then retries), a read release that empties the
 * lock while a writer is queued wakes it, and a reader that arrives while a writer is queued waits
 * behind it instead of taking the read fast path. A lost wake-up ends the run as a deadlock.
 */
class LockFastPathsOnSimTest {

    private static final int SEEDS = 40;

    /** Runs {@code body} as the init task for each seed; the run must end DONE, then {@code check} runs. */
    private static void forSeeds(String name, BiConsumer<SimPlatform, Long> body, Runnable check) {
        SeededRuns.forSeeds(name, SEEDS, body, check);
    }

    private static void joinAll(SimPlatform sim, List<Task> tasks) {
        for (Task t : tasks) {
            sim.join(t);
        }
    }

    @Test
    void aMutexReleasedWithWaitersCountedInItsWordHandsItOnInEverySchedule() {
        int[] counter = {0};
        boolean[] overlap = {false};
        boolean[] leftLocked = {false};
        forSeeds("sim-mutex-fast", (sim, seed) -> {
            counter[0] = 0;
            Mutex m = new Mutex(sim, "m");
            int[] inside = {0};
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tasks.add(sim.startThread("locker-" + i, () -> {
                    for (int r = 0; r < 4; r++) {
                        m.lock();
                        overlap[0] |= ++inside[0] != 1;
                        sim.preemptionPoint(); // let the others find it held and queue
                        counter[0]++;
                        inside[0]--;
                        m.unlock();
                    }
                }));
            }
            joinAll(sim, tasks);
            leftLocked[0] = m.isLocked() || m.owner() != null || !m.waitingTasks().isEmpty();
        }, () -> {
            assertEquals(12, counter[0]);
            assertFalse(overlap[0], "two tasks held the mutex at once");
            assertFalse(leftLocked[0], "the mutex must end free, with no owner and no waiter");
        });
    }

    @Test
    void readReleasesRacingQueuedWritersLoseNoWakeUpAndNeverOverlapAWriter() {
        boolean[] broken = {false};
        int[] writes = {0};
        Object[] end = new Object[3];
        forSeeds("sim-rwsem-fast", (sim, seed) -> {
            writes[0] = 0;
            RwSemaphore rw = new RwSemaphore(sim, "rw");
            int[] readers = {0};
            int[] writers = {0};
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tasks.add(sim.startThread("reader-" + i, () -> {
                    for (int r = 0; r < 4; r++) {
                        rw.downRead();
                        readers[0]++;
                        broken[0] |= writers[0] != 0;
                        sim.preemptionPoint();
                        readers[0]--;
                        rw.upRead();
                    }
                }));
            }
            for (int i = 0; i < 2; i++) {
                tasks.add(sim.startThread("writer-" + i, () -> {
                    for (int r = 0; r < 3; r++) {
                        rw.downWrite();
                        broken[0] |= ++writers[0] != 1 || readers[0] != 0;
                        sim.preemptionPoint();
                        writes[0]++;
                        writers[0]--;
                        rw.upWrite();
                    }
                }));
            }
            joinAll(sim, tasks);
            recordEnd(rw, end);
        }, () -> {
            assertFalse(broken[0], "a writer overlapped another holder");
            assertEquals(6, writes[0]);
            assertLeftFree(end);
        });
    }

    /**
     * {@code rwsem_mark_wake} only wakes a writer first in line; the woken writer competes. In the
     * schedules where the releasing writer runs on and asks again before the woken one has run, the
     * releaser takes the lock back (a steal), and the woken writer retries and sleeps again; in every
     * schedule no two writers overlap, every write happens and the lock ends free.
     */
    @Test
    void aWokenWriterCompetesAndARunningWriterMayTakeTheLockFirst() {
        int[] steals = {0};
        int[] writes = {0};
        boolean[] broken = {false};
        Object[] end = new Object[3];
        forSeeds("sim-rwsem-steal", (sim, seed) -> {
            writes[0] = 0;
            RwSemaphore rw = new RwSemaphore(sim, "rw");
            int[] inside = {0};
            Task[] lastReleaser = {null};
            boolean[] releasedWithWriterQueued = {false};
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                tasks.add(sim.startThread("writer-" + i, () -> {
                    Task me = sim.currentTask();
                    for (int r = 0; r < 4; r++) {
                        rw.downWrite();
                        broken[0] |= ++inside[0] != 1;
                        if (lastReleaser[0] == me && releasedWithWriterQueued[0]) {
                            steals[0]++; // a writer was queued (and woken) at my release, yet I am back first
                        }
                        sim.preemptionPoint(); // let the others find it held and queue
                        writes[0]++;
                        inside[0]--;
                        lastReleaser[0] = me;
                        releasedWithWriterQueued[0] = rw.hasQueuedWriter();
                        rw.upWrite();
                    }
                }));
            }
            joinAll(sim, tasks);
            recordEnd(rw, end);
        }, () -> {
            assertFalse(broken[0], "two writers held the lock at once");
            assertEquals(12, writes[0]);
            assertLeftFree(end);
        });
        assertTrue(steals[0] > 0, "in some schedule a running writer must take the lock past the woken one");
    }

    @Test
    void aReaderArrivingWhileAWriterIsQueuedWaitsBehindItInEverySchedule() {
        List<String> order = new ArrayList<>();
        boolean[] fastPathRefused = {true};
        boolean[] secondReaderQueued = {true};
        forSeeds("sim-rwsem-pref", (sim, seed) -> {
            order.clear();
            RwSemaphore rw = new RwSemaphore(sim, "rw");
            rw.downRead();
            Task writer = sim.startThread("writer", () -> {
                rw.downWrite();
                order.add("writer");
                rw.upWrite();
            });
            while (!rw.hasQueuedWriter()) {
                sim.cpuRelax();
            }
            fastPathRefused[0] &= !rw.tryDownRead();
            Task reader = sim.startThread("reader", () -> {
                rw.downRead();
                order.add("reader");
                rw.upRead();
            });
            while (rw.queuedReaders().isEmpty()) {
                sim.cpuRelax();
            }
            secondReaderQueued[0] &= rw.readers() == 1 && order.isEmpty();
            rw.upRead();
            sim.join(writer);
            sim.join(reader);
        }, () -> {
            assertEquals(List.of("writer", "reader"), order, "the reader must come in after the queued writer");
            assertEquals(true, fastPathRefused[0], "tryDownRead must fail while a writer is queued");
            assertEquals(true, secondReaderQueued[0], "the new reader must queue while the lock is read-held");
        });
    }

    /** What a run leaves on the rw-semaphore, read by the last task: read holds, the writer, the waiters. */
    private static void recordEnd(RwSemaphore rw, Object[] end) {
        end[0] = rw.readers();
        end[1] = rw.writer();
        end[2] = rw.waitingTasks().size();
    }

    /** The rw-semaphore ended free: no read hold, no writer, nobody queued. */
    private static void assertLeftFree(Object[] end) {
        assertEquals(0, end[0], "read holds left");
        assertNull(end[1], "a writer left");
        assertEquals(0, end[2], "waiters left");
    }
}
