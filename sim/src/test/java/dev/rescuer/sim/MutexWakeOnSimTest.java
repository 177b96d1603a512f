package dev.rescuer.sim;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.sim.strategy.RandomWalk;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mutex's release protocol under the simulator, every schedule reproducible from its seed: a
 * release wakes one waiter and lets a running task barge; a woken waiter that loses to a barger
 * sleeps again and is woken again (no lost wake-up); a first waiter that lost asks for a hand-over
 * and the next release gives it the lock, so a barger cannot take it past that waiter; a waiter that
 * asked for a hand-over and gives up withdraws the request. A lost wake-up ends a run as a deadlock,
 * which fails the seed.
 */
class MutexWakeOnSimTest {

    private static final int SEEDS = 40;

    /** Spins (letting every other runnable task go first) until {@code task} sleeps queued on {@code m}. */
    private static void awaitQueued(SimPlatform sim, Mutex m, Task task) {
        while (!m.waitingTasks().contains(task) || task.state() != Task.State.BLOCKED) {
            sim.cpuRelax();
        }
    }

    /**
     * One more round of contention on {@code m} from a free state: a waiter queued behind the caller
     * must be woken by the caller's release. A word left with a stale waking or hand-over bit fails
     * here (the waiter is never woken, or the release finds no one to hand to).
     */
    private static void contendOnceMore(SimPlatform sim, Mutex m) {
        m.lock();
        Task late = sim.startThread("late", () -> {
            m.lock();
            m.unlock();
        });
        awaitQueued(sim, m, late);
        m.unlock();
        sim.join(late);
    }

    @Test
    void aWokenWaiterThatLosesToABargerGetsTheLockHandedOverByTheNextRelease() {
        int[] barged = {0};
        int[] notBarged = {0};
        boolean[] handedOver = {true};
        boolean[] waiterGotIt = {true};
        SeededRuns.forSeeds("sim-mutex-handoff", SEEDS, (sim, seed) -> {
            Mutex m = new Mutex(sim, "m");
            boolean[] got = {false};
            m.lock();
            Task w = sim.startThread("waiter", () -> {
                m.lock();
                got[0] = true;
                m.unlock();
            });
            awaitQueued(sim, m, w);
            m.unlock(); // wakes the waiter; its scheduling point may let it run (and finish) first
            if (m.tryLock() && !got[0]) {
                barged[0]++;
                sim.cpuRelax(); // the woken waiter runs now: it retries, loses, asks for a hand-over and sleeps
                m.unlock();     // hands the lock over: the waiter owns it before it runs again
                boolean again = m.tryLock();
                // Retaking the lock is fine only once the waiter has had it; until then it is the waiter's.
                handedOver[0] &= again ? got[0] : got[0] || m.owner() == w;
                if (again) {
                    m.unlock();
                }
            } else {
                notBarged[0]++;
                if (m.isHeldByCurrentTask()) {
                    m.unlock(); // the waiter had already been and gone
                }
            }
            sim.join(w);
            waiterGotIt[0] &= got[0];
            contendOnceMore(sim, m);
        }, () -> { });
        assertTrue(handedOver[0], "a release after the woken waiter lost must hand the lock to it, not let a barger in");
        assertTrue(waiterGotIt[0]);
        assertTrue(barged[0] > 0 && notBarged[0] > 0,
                "the seeds must cover both orders (barged " + barged[0] + ", not " + notBarged[0] + ")");
    }

    @Test
    void bargersTimedAndInterruptedWaitersLoseNoWakeUpInEverySchedule() {
        int[] count = {0};
        boolean[] overlap = {false};
        Object[] end = new Object[3];
        SeededRuns.forSeeds("sim-mutex-barge", SEEDS, (sim, seed) -> {
            count[0] = 0;
            Mutex m = new Mutex(sim, "m");
            int[] inside = {0};
            Runnable critical = () -> {
                overlap[0] |= ++inside[0] != 1;
                sim.preemptionPoint();
                count[0]++;
                inside[0]--;
            };
            List<Task> tasks = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                tasks.add(sim.startThread("locker-" + i, () -> {
                    for (int r = 0; r < 4; r++) {
                        m.lock();
                        critical.run();
                        m.unlock();
                    }
                }));
            }
            tasks.add(sim.startThread("barger", () -> {
                for (int r = 0; r < 4; ) {
                    if (m.tryLock()) {
                        critical.run();
                        m.unlock();
                        r++;
                    } else {
                        sim.cpuRelax();
                    }
                }
            }));
            tasks.add(sim.startThread("timed", () -> {
                for (int r = 0; r < 4; ) {
                    if (m.tryLock(Duration.ofNanos(3 * SimPlatform.STEP_NANOS))) {
                        critical.run();
                        m.unlock();
                        r++;
                    }
                }
            }));
            Task interruptible = sim.startThread("interruptible", () -> {
                for (int r = 0; r < 4; ) {
                    try {
                        m.lockInterruptible();
                    } catch (InterruptedException e) {
                        continue;
                    }
                    critical.run();
                    m.unlock();
                    r++;
                }
            });
            tasks.add(interruptible);
            for (int i = 0; i < 3; i++) {
                sim.preemptionPoint();
                sim.interrupt(interruptible);
            }
            for (Task t : tasks) {
                sim.join(t);
            }

            contendOnceMore(sim, m);
            end[0] = m.isLocked();
            end[1] = m.owner();
            end[2] = m.waitingTasks().size();
        }, () -> {
            assertEquals(20, count[0]);
            assertFalse(overlap[0], "two tasks held the mutex at once");
            assertEquals(false, end[0], "left locked");
            assertNull(end[1], "an owner left");
            assertEquals(0, end[2], "waiters left");
        });
    }

    @Test
    void underTheSimulatorOnlyTheCallerIsOnCpu() {
        boolean[] ok = {true};
        SeededRuns.forSeeds("sim-mutex-on-cpu", 4, (sim, seed) -> {
            Task other = sim.startThread("other", () -> sim.cpuRelax());
            ok[0] &= sim.isOnCpu(sim.currentTask()) && !sim.isOnCpu(other);
            sim.join(other);
        }, () -> { });
        assertTrue(ok[0], "a simulated task that is not the current one is never running");
    }

    /**
     * A first waiter that lost to a barger and asked for a hand-over (the point where a real platform
     * lets it spin on a running owner), with the owner then blocking for good on an AB-BA deadlock:
     * every run ends as a deadlock the simulator reports, never a livelock of a spinner, and the
     * same seed gives the same run.
     */
    @Test
    void aDeadlockBehindAFirstWaiterThatAskedForAHandOverIsReportedNotSpunOn() {
        int[] deadlocked = {0};
        try (CarrierPool pool = new CarrierPool("sim-mutex-spin-deadlock")) {
            for (long seed = 0; seed < SEEDS; seed++) {
                String first = runAbBaBehindAWaiter(pool, seed);
                assertEquals(first, runAbBaBehindAWaiter(pool, seed), "seed " + seed + " is not reproducible");
                assertTrue(first.startsWith("DEADLOCK") || first.startsWith("DONE"), "seed " + seed + ": " + first);
                if (first.startsWith("DEADLOCK")) {
                    deadlocked[0]++;
                }
            }
        }
        assertTrue(deadlocked[0] > 0, "no seed reached the deadlock");
    }

    /** One run: how it stopped, and at what virtual time. */
    private static String runAbBaBehindAWaiter(CarrierPool pool, long seed) {
        SimPlatform sim = new SimPlatform(seed, new RandomWalk(seed), pool, 100_000);
        SimPlatform.Stop stop = sim.run("init", () -> {
            Mutex a = new Mutex(sim, "a");
            Mutex b = new Mutex(sim, "b");
            a.lock();
            Task t2 = sim.startThread("t2", () -> {
                b.lock();
                a.lock();
                a.unlock();
                b.unlock();
            });
            Task w = sim.startThread("w", () -> {
                a.lock();
                a.unlock();
            });
            awaitQueued(sim, a, w);
            awaitQueued(sim, a, t2);
            a.unlock();           // wakes the head (w or t2)
            if (a.tryLock()) {    // barged: the woken head retries, loses and asks for a hand-over
                sim.cpuRelax();
                b.lock();         // held by t2, which waits for a: deadlock
                b.unlock();
                a.unlock();
            }
            sim.join(t2);
            sim.join(w);
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        return stop.kind() + " at " + sim.nanoTime() + ": " + stop.reason();
    }

    @Test
    void aFirstWaiterThatAskedForAHandOverAndIsInterruptedWithdrawsTheRequest() {
        int[] covered = {0};
        boolean[] ok = {true};
        boolean[] requested = {true};
        boolean[] withdrawn = {true};
        SeededRuns.forSeeds("sim-mutex-withdraw", SEEDS, (sim, seed) -> {
            Mutex m = new Mutex(sim, "m");
            boolean[] interrupted = {false};
            boolean[] got = {false};
            m.lock();
            Task w = sim.startThread("waiter", () -> {
                try {
                    m.lockInterruptible();
                    got[0] = true;
                    m.unlock();
                } catch (InterruptedException e) {
                    interrupted[0] = true;
                }
            });
            awaitQueued(sim, m, w);
            m.unlock();
            if (m.tryLock() && !got[0]) {
                sim.cpuRelax();        // the woken waiter loses and asks for a hand-over
                requested[0] &= m.isHandOffRequested() && m.waitingTasks().contains(w);
                sim.interrupt(w);
                sim.cpuRelax();        // it gives up and leaves the queue
                sim.join(w);
                withdrawn[0] &= !m.isHandOffRequested();
                m.unlock();            // nobody to hand over to: the lock is simply free
                ok[0] &= interrupted[0] && !m.isLocked() && m.owner() == null;
                covered[0]++;
            } else {
                if (m.isHeldByCurrentTask()) {
                    m.unlock(); // the waiter had already been and gone
                }
                sim.join(w);
            }
            contendOnceMore(sim, m);
        }, () -> { });
        assertTrue(requested[0], "the woken waiter that lost must have asked for a hand-over (HANDOFF set) before the interrupt");
        assertTrue(withdrawn[0], "the interrupted waiter's hand-over request must leave with it (HANDOFF clear)");
        assertTrue(ok[0], "the interrupted waiter must leave, and the lock be free after the release");
        assertTrue(covered[0] > 0, "no seed barged");
    }
}
