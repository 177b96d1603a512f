package dev.rescuer.sim;

import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.sim.strategy.RandomWalk;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RwSemaphore}'s contended path explored over many schedules: plain, timed and interruptible
 * writers and readers, a writer that downgrades, and a task that interrupts the interruptible ones,
 * all on one rw-semaphore, with holders that sometimes keep the lock for longer than
 * {@code RWSEM_WAIT_TIMEOUT} of virtual time (so first waiters ask for hand-overs while others time
 * out, are interrupted, steal and are woken). In every schedule: no writer overlaps another holder,
 * every task finishes (a stranded waiter ends the run as a deadlock, not DONE), every untimed
 * acquisition happens, and the lock ends with its word exactly 0 (no holder and no flag: a
 * {@code down_write_trylock}, which is one compare-and-set from 0, succeeds). The validator's events
 * stay exact: after every acquisition (fast path, steal, own retry, hand-over, readers' grant) the
 * task has exactly one reported hold in the right mode, and none after its release or a failed try.
 * Each 10th seed is run twice
 * and must replay identically (the same trace hash, steps and log of outcomes).
 */
class RwSemaphoreExploredOnSimTest {

    private static final int SEEDS = 300;
    private static final int ROUNDS = 3;

    /** What one run observed; compared between a seed's two runs. */
    private static final class Run {
        final List<String> log = new ArrayList<>();
        String violation;
        Events events;
        int untimedDone;
        int timedOut;
        int interrupted;
        int downgrades;
        boolean endedFree;
        String endState;
        SimPlatform.Stop stop;
        long traceHash;
        long steps;

        void violated(String what) {
            if (violation == null) {
                violation = what + " (after " + log + ")";
            }
        }
    }

    /**
     * What the validator would hear about {@code rw}: per task, acquisitions reported minus releases
     * (an untimed acquisition is reported before it waits, and released if it gives up), and the mode
     * of the last acquisition. The simulator runs one task at a time, so plain maps do.
     */
    private static final class Events implements LockEvents {
        final Primitive rw;
        final Map<Task, Integer> depth = new HashMap<>();
        final Map<Task, Integer> mode = new HashMap<>();
        final Run run;

        Events(Primitive rw, Run run) {
            this.rw = rw;
            this.run = run;
        }

        @Override
        public void acquire(Task task, Primitive lock, int m, int subclass, boolean trylock) {
            if (lock == rw) {
                depth.merge(task, 1, Integer::sum);
                mode.put(task, m);
            }
        }

        @Override
        public void release(Task task, Primitive lock) {
            if (lock == rw && depth.merge(task, -1, Integer::sum) < 0) {
                run.violated(task.name() + ": a release reported without an acquisition");
            }
        }

        /** After the caller's acquisition ({@code m}), a release ({@code -1}) or a failed try: exactly what it holds. */
        void expect(Task self, int holds, int m) {
            int d = depth.getOrDefault(self, 0);
            if (d != holds || (holds > 0 && mode.get(self) != m)) {
                run.violated(self.name() + ": the validator heard " + d + " holds (mode " + mode.get(self) + "), expected "
                        + holds + " (mode " + m + ")");
            }
        }

        @Override public void waitOn(Task task, Primitive event) { }
        @Override public void signal(Task task, Primitive event) { }
        @Override public void contextBoundary(Task task) { }
    }

    /** The holders, counted by the tasks themselves (the simulator runs one task at a time). */
    private static final class Inside {
        int readers;
        int writers;
    }

    private static Run runSeed(long seed) {
        Run run = new Run();
        try (CarrierPool pool = new CarrierPool("sim-rwsem-explore")) {
            SimPlatform sim = new SimPlatform(seed, new RandomWalk(seed), pool, 2_000_000);
            run.stop = sim.run("init", () -> {
                workload(sim, run);
                sim.stop(SimPlatform.StopKind.DONE, "done");
            });
            run.traceHash = sim.trace().hash();
            run.steps = sim.steps();
        }
        return run;
    }

    private static void workload(SimPlatform sim, Run run) {
        RwSemaphore rw = new RwSemaphore(sim, "rw");
        Events ev = new Events(rw, run);
        sim.setLockEvents(ev);
        run.events = ev;
        Completion nap = new Completion(sim, "nap"); // never completed: a timed wait on it passes virtual time
        Inside in = new Inside();
        SplittableRandom random = sim.workloadRandom();
        List<Task> tasks = new ArrayList<>();
        List<Task> interruptible = new ArrayList<>();

        Runnable holdForWrite = () -> {
            ev.expect(sim.currentTask(), 1, LockEvents.EXCLUSIVE);
            if (++in.writers != 1 || in.readers != 0) {
                run.violated("a writer entered beside " + (in.writers - 1) + " writers and " + in.readers + " readers");
            }
            hold(sim, nap, random);
            in.writers--;
        };
        Runnable holdForRead = () -> {
            ev.expect(sim.currentTask(), 1, LockEvents.SHARED);
            in.readers++;
            if (in.writers != 0) {
                run.violated("a reader entered while a writer held the lock");
            }
            hold(sim, nap, random);
            in.readers--;
        };

        for (int i = 0; i < 2; i++) {
            tasks.add(sim.startThread("writer-" + i, () -> {
                for (int r = 0; r < ROUNDS; r++) {
                    rw.downWrite();
                    holdForWrite.run();
                    rw.upWrite();
                    run.untimedDone++;
                    log(sim, run, "write");
                }
            }));
            tasks.add(sim.startThread("reader-" + i, () -> {
                for (int r = 0; r < ROUNDS; r++) {
                    rw.downRead();
                    holdForRead.run();
                    rw.upRead();
                    run.untimedDone++;
                    log(sim, run, "read");
                }
            }));
        }
        tasks.add(sim.startThread("downgrader", () -> {
            for (int r = 0; r < ROUNDS; r++) {
                rw.downWrite();
                if (++in.writers != 1 || in.readers != 0) {
                    run.violated("a downgrading writer entered beside other holders");
                }
                hold(sim, nap, random);
                // From here this task counts as a reader: downgradeWrite lets queued readers in with it,
                // and they may run at its scheduling point, before it returns.
                in.writers--;
                in.readers++;
                rw.downgradeWrite();
                ev.expect(sim.currentTask(), 1, LockEvents.SHARED); // lock_downgrade: the hold changes mode
                run.downgrades++;
                hold(sim, nap, random);
                in.readers--;
                rw.upRead();
                run.untimedDone++;
                log(sim, run, "downgrade");
            }
        }));
        tasks.add(sim.startThread("timed-writer", () -> {
            for (int r = 0; r < ROUNDS; r++) {
                if (rw.tryDownWrite(Duration.ofMillis(1 + random.nextInt(8)))) {
                    holdForWrite.run();
                    rw.upWrite();
                    log(sim, run, "timed write");
                } else {
                    run.timedOut++;
                    log(sim, run, "timed write timed out");
                }
            }
        }));
        tasks.add(sim.startThread("timed-reader", () -> {
            for (int r = 0; r < ROUNDS; r++) {
                if (rw.tryDownRead(Duration.ofMillis(1 + random.nextInt(8)))) {
                    holdForRead.run();
                    rw.upRead();
                    log(sim, run, "timed read");
                } else {
                    run.timedOut++;
                    log(sim, run, "timed read timed out");
                }
            }
        }));
        Task iw = sim.startThread("killable-writer", () -> {
            for (int r = 0; r < ROUNDS; r++) {
                try {
                    rw.downWriteInterruptible();
                } catch (InterruptedException e) {
                    run.interrupted++;
                    log(sim, run, "killable write interrupted");
                    continue;
                }
                holdForWrite.run();
                rw.upWrite();
                log(sim, run, "killable write");
            }
        });
        Task ir = sim.startThread("killable-reader", () -> {
            for (int r = 0; r < ROUNDS; r++) {
                try {
                    rw.downReadInterruptible();
                } catch (InterruptedException e) {
                    run.interrupted++;
                    log(sim, run, "killable read interrupted");
                    continue;
                }
                holdForRead.run();
                rw.upRead();
                log(sim, run, "killable read");
            }
        });
        interruptible.add(iw);
        interruptible.add(ir);
        tasks.add(iw);
        tasks.add(ir);
        tasks.add(sim.startThread("interrupter", () -> {
            for (int r = 0; r < 4; r++) {
                nap.waitFor(Duration.ofNanos(random.nextLong(6_000_000)));
                sim.interrupt(interruptible.get(random.nextInt(interruptible.size())));
            }
        }));

        for (Task t : tasks) {
            sim.join(t);
        }
        String end = "readers=" + rw.readers() + " writer=" + rw.writer() + " waiting=" + rw.waitingTasks();
        // down_write_trylock is one compare-and-set from 0: it succeeds exactly when the word has no holder and no flag.
        boolean free = rw.readers() == 0 && rw.writer() == null && rw.waitingTasks().isEmpty() && rw.tryDownWrite();
        if (free) {
            rw.upWrite();
            free = rw.tryDownRead(); // and the read fast path is open again
            if (free) {
                rw.upRead();
            }
        }
        run.endedFree = free;
        run.endState = end;
    }

    /** Keeps the lock a while: not at all, for a few scheduling points, or past RWSEM_WAIT_TIMEOUT. */
    private static void hold(SimPlatform sim, Completion nap, SplittableRandom random) {
        switch (random.nextInt(4)) {
            case 0 -> { }
            case 1 -> sim.preemptionPoint();
            case 2 -> nap.waitFor(Duration.ofNanos(1 + random.nextLong(2_000_000)));
            default -> nap.waitFor(Duration.ofNanos(4_000_000 + random.nextLong(3_000_000)));
        }
    }

    /** Logs an outcome; the caller has just released the lock or failed to take it, so holds nothing. */
    private static void log(SimPlatform sim, Run run, String what) {
        run.events.expect(sim.currentTask(), 0, 0);
        run.log.add(sim.currentTask().name() + ": " + what + " @" + sim.nanoTime());
    }

    @Test
    void mixedWaitersOnOneRwSemaphoreKeepExclusionFinishAndLeaveTheWordZeroInEverySchedule() {
        int timedOut = 0;
        int interrupted = 0;
        for (long seed = 0; seed < SEEDS; seed++) {
            Run run = runSeed(seed);
            assertEquals(SimPlatform.StopKind.DONE, run.stop.kind(), "seed " + seed + ": " + run.stop.reason());
            assertEquals(null, run.violation, "seed " + seed);
            int expected = 2 * ROUNDS + 2 * ROUNDS + ROUNDS;
            assertEquals(expected, run.untimedDone, "seed " + seed + ": every untimed acquisition happens");
            assertEquals(ROUNDS, run.downgrades, "seed " + seed);
            assertTrue(run.endedFree, "seed " + seed + ": the lock must end with its word 0, got " + run.endState);
            timedOut += run.timedOut;
            interrupted += run.interrupted;
            if (seed % 10 == 0) {
                Run again = runSeed(seed);
                assertEquals(run.stop, again.stop, "seed " + seed + " replayed");
                assertEquals(run.traceHash, again.traceHash, "seed " + seed + " replayed: trace");
                assertEquals(run.steps, again.steps, "seed " + seed + " replayed: steps");
                assertEquals(run.log, again.log, "seed " + seed + " replayed: outcomes");
            }
        }
        // The exploration must reach the give-up paths it is about.
        assertTrue(timedOut > 0, "no timed acquisition ever timed out");
        assertTrue(interrupted > 0, "no interruptible acquisition was ever interrupted");
    }
}
