package dev.rescuer.sim;

import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.TaskAbortedError;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.sim.strategy.Pct;
import dev.rescuer.sim.strategy.RandomWalk;
import dev.rescuer.sim.strategy.Strategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's scheduling, virtual time, timers, stops and tear-down, on small bodies run with
 * {@link SimPlatform#run}. Nothing here builds a workqueue system, so no periodic timer keeps a run
 * alive. Assertions are made after the run, on what the tasks recorded: an assertion error inside a
 * task would only end the run as a failure.
 */
class SimPlatformTest {

    private CarrierPool pool;

    @BeforeEach
    void createPool() {
        pool = new CarrierPool("sim-platform-test");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    private SimPlatform sim(long seed) {
        return sim(seed, new RandomWalk(seed));
    }

    private SimPlatform sim(long seed, Strategy strategy) {
        return new SimPlatform(seed, strategy, pool, 10_000);
    }

    private static Primitive event(String name) {
        return new Primitive() {
            @Override public String name() { return name; }
            @Override public String kind() { return "test event"; }
        };
    }

    private static void assertDone(SimPlatform.Stop stop) {
        assertEquals(SimPlatform.StopKind.DONE, stop.kind(), stop.reason());
    }

    // ------------------------------------------------------------------ virtual time

    @Test
    void eachSegmentATaskRunsCostsOneStepOfVirtualTimeAndATimeoutEndsAtExactlyItsVirtualDeadline() {
        for (long seed = 0; seed < 5; seed++) {
            SimPlatform sim = sim(seed);
            List<Long> busyTimes = Collections.synchronizedList(new ArrayList<>());
            boolean[] timerFiredWhileBusy = {false};
            long[] times = new long[2];
            Boolean[] waited = {null};
            SimPlatform.Stop stop = sim.run("init", () -> {
                boolean[] fired = {false};
                PlatformTimer early = sim.newTimer("early", () -> fired[0] = true);
                early.arm(Duration.ofMillis(1));
                Task busy = sim.startThread("busy", () -> {
                    for (int i = 0; i < 300; i++) {
                        busyTimes.add(sim.nanoTime());
                        timerFiredWhileBusy[0] |= fired[0];
                        sim.preemptionPoint();
                    }
                });
                Completion never = new Completion(sim, "never");
                times[0] = sim.nanoTime();
                waited[0] = never.waitFor(Duration.ofMillis(5));
                times[1] = sim.nanoTime();
                sim.join(busy);
                sim.stop(SimPlatform.StopKind.DONE, "done");
            });
            assertDone(stop);
            assertEquals(300, busyTimes.size());
            for (int i = 1; i < busyTimes.size(); i++) {
                // Between two readings busy ran one segment, and others may have run some too.
                assertTrue(busyTimes.get(i) - busyTimes.get(i - 1) >= SimPlatform.STEP_NANOS,
                        "reading " + i + ": the clock did not charge busy's segment: " + busyTimes);
            }
            // 300 segments of busy and a few of init: well short of the timer's millisecond.
            assertTrue(busyTimes.get(299) < 310 * SimPlatform.STEP_NANOS, "busy's last reading " + busyTimes.get(299));
            assertFalse(timerFiredWhileBusy[0], "a 1 ms timer fired before the clock could reach 1 ms");
            assertEquals(Boolean.FALSE, waited[0], "nobody completes the completion: the wait times out");
            assertEquals(times[0] + 5_000_000, times[1], "the timeout ends at exactly its virtual deadline");
        }
    }

    @Test
    void aDueTimerFiresWhenTheStrategyPicksItAndReadsTheClockThen() {
        // Two tasks keep running; the 1 ms timer comes due during their segments and fires at a step
        // where the strategy picks it, never before its deadline.
        for (long seed = 0; seed < 5; seed++) {
            SimPlatform sim = sim(seed);
            long[] firedAt = {-1};
            SimPlatform.Stop stop = sim.run("init", () -> {
                PlatformTimer t = sim.newTimer("t", () -> firedAt[0] = sim.nanoTime());
                t.arm(Duration.ofMillis(1));
                Task other = sim.startThread("other", () -> {
                    while (firedAt[0] < 0) {
                        sim.preemptionPoint();
                    }
                });
                while (firedAt[0] < 0) {
                    sim.preemptionPoint();
                }
                sim.join(other);
                sim.stop(SimPlatform.StopKind.DONE, "done");
            });
            assertDone(stop);
            assertTrue(firedAt[0] >= 1_000_000, "fired at " + firedAt[0] + " ns, before its deadline");
            assertTrue(firedAt[0] < 1_000_000 + 50 * SimPlatform.STEP_NANOS, "seed " + seed + ": fired at " + firedAt[0]
                    + " ns: the strategy picks among two tasks and the timer, so it fires within a few steps of its deadline");
            assertTrue(sim.steps() >= 1_000, "1 ms of segments is 1000 steps, got " + sim.steps());
        }
    }

    @Test
    void theClockJumpsStraightToTheNextEvent() {
        SimPlatform sim = sim(1);
        List<Long> wakeTimes = new ArrayList<>();
        SimPlatform.Stop stop = sim.run("init", () -> {
            Primitive nothing = event("nothing");
            for (long ms : new long[] {3, 120_000, 1}) {
                sim.await(nothing, () -> false, sim.deadlineAfter(Duration.ofMillis(ms)));
                wakeTimes.add(sim.nanoTime());
            }
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertEquals(List.of(3_000_000L, 120_003_000_000L, 120_004_000_000L), wakeTimes);
        // Each sleep is one jump of the clock: no stepping through the two minutes.
        assertTrue(sim.steps() < 10, "steps " + sim.steps());
    }

    @Test
    void timersFireInDeadlineOrderAtTheirExactDeadlines() {
        for (long seed = 0; seed < 5; seed++) {
            SimPlatform sim = sim(seed);
            List<String> fired = Collections.synchronizedList(new ArrayList<>());
            List<Long> at = Collections.synchronizedList(new ArrayList<>());
            boolean[] pendingBefore = new boolean[1];
            boolean[] pendingAfter = new boolean[1];
            boolean[] cancelled = new boolean[1];
            SimPlatform.Stop stop = sim.run("init", () -> {
                WaitQueue wq = new WaitQueue(sim, "fired");
                List<PlatformTimer> timers = new ArrayList<>();
                for (String name : new String[] {"c", "a", "b", "b2", "cancelled", "rearmed"}) {
                    timers.add(sim.newTimer(name, () -> {
                        fired.add(name);
                        at.add(sim.nanoTime());
                        if (fired.size() >= 5) {
                            wq.wakeUpAll(); // no task runs between the firings, so no segment delays one
                        }
                    }));
                }
                timers.get(0).arm(Duration.ofMillis(3));  // c
                timers.get(1).arm(Duration.ofMillis(1));  // a
                timers.get(2).arm(Duration.ofMillis(2));  // b
                timers.get(3).arm(Duration.ofMillis(2));  // b2: same deadline, armed after b
                timers.get(4).arm(Duration.ofMillis(2));
                cancelled[0] = timers.get(4).cancel();
                timers.get(5).arm(Duration.ofMillis(1));
                timers.get(5).arm(Duration.ofMillis(4)); // re-arming replaces the earlier deadline
                pendingBefore[0] = timers.get(1).isPending();
                wq.waitEvent(() -> fired.size() >= 5);
                pendingAfter[0] = timers.get(1).isPending();
                // Give a stray arming (the cancelled one, the re-armed one's first deadline) time to show.
                new Completion(sim, "pause").waitFor(Duration.ofMillis(20));
                sim.stop(SimPlatform.StopKind.DONE, "done");
            });
            assertDone(stop);
            assertEquals(List.of("a", "b", "b2", "c", "rearmed"), fired, "seed " + seed);
            assertEquals(List.of(1_000_000L, 2_000_000L, 2_000_000L, 3_000_000L, 4_000_000L), at, "seed " + seed);
            assertTrue(cancelled[0], "cancel of a pending timer reports it was pending");
            assertTrue(pendingBefore[0]);
            assertFalse(pendingAfter[0]);
        }
    }

    @Test
    void timedWaitsReturnFalseOnTimeoutAndTrueWhenWokenFirst() {
        SimPlatform sim = sim(7);
        List<Object> results = new ArrayList<>();
        SimPlatform.Stop stop = sim.run("init", () -> {
            Primitive e = event("e");
            Task self = sim.currentTask();
            // Times out.
            results.add(sim.await(e, () -> false, sim.deadlineAfter(Duration.ofMillis(1))));
            results.add(sim.nanoTime());
            // Already true: returns at once, no time passes.
            results.add(sim.await(e, () -> true, sim.deadlineAfter(Duration.ofMillis(1))));
            results.add(sim.nanoTime());
            // Woken by a timer at +2 ms, before the +5 ms deadline.
            boolean[] flag = {false};
            PlatformTimer t = sim.newTimer("waker", () -> {
                flag[0] = true;
                sim.wake(self);
            });
            t.arm(Duration.ofMillis(2));
            results.add(sim.await(e, () -> flag[0], sim.deadlineAfter(Duration.ofMillis(5))));
            results.add(sim.nanoTime());
            // A semaphore with no permits times out too.
            results.add(new Semaphore(sim, "empty", 0).downTimeout(Duration.ofMillis(2)));
            results.add(sim.nanoTime());
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertEquals(List.of(false, 1_000_000L, true, 1_000_000L, true, 3_000_000L, false, 5_000_000L), results);
    }

    // ------------------------------------------------------------------ stops

    @Test
    void tasksWaitingOnEachOthersCompletionDeadlock() {
        for (long seed = 0; seed < 5; seed++) {
            SimPlatform sim = sim(seed);
            List<Task> started = new ArrayList<>();
            SimPlatform.Stop stop = sim.run("init", () -> {
                Completion aDone = new Completion(sim, "a-done");
                Completion bDone = new Completion(sim, "b-done");
                started.add(sim.startThread("a", () -> {
                    bDone.waitFor();
                    aDone.complete();
                }));
                started.add(sim.startThread("b", () -> {
                    aDone.waitFor();
                    bDone.complete();
                }));
                sim.join(started.get(0));
                sim.stop(SimPlatform.StopKind.DONE, "not reached");
            });
            assertEquals(SimPlatform.StopKind.DEADLOCK, stop.kind(), stop.reason());
            assertEquals("no task can run and no timer is armed", stop.reason());
            assertEquals(stop, sim.stopped());
            for (Task t : started) {
                assertTrue(t.hasExited(), t + " was not torn down");
                assertInstanceOf(TaskAbortedError.class, t.failure(), t + " ended with " + t.failure());
            }
        }
    }

    @Test
    void aRunWhoseTasksAllExitWithoutStoppingIsADeadlock() {
        SimPlatform sim = sim(3);
        SimPlatform.Stop stop = sim.run("init", () -> sim.startThread("child", () -> { }));
        assertEquals(SimPlatform.StopKind.DEADLOCK, stop.kind());
        assertTrue(stop.reason().contains("every task has exited"), stop.reason());
    }

    @Test
    void aTaskThatThrowsEndsTheRunAsAFailureNamingIt() {
        SimPlatform sim = sim(5);
        SimPlatform.Stop stop = sim.run("init", () -> {
            Task boom = sim.startThread("boom", () -> {
                throw new IllegalStateException("kaboom");
            });
            sim.join(boom);
            sim.preemptionPoint();
            sim.stop(SimPlatform.StopKind.DONE, "not reached");
        });
        assertEquals(SimPlatform.StopKind.FAILURE, stop.kind(), stop.reason());
        assertTrue(stop.reason().contains("boom"), stop.reason());
        assertTrue(stop.reason().contains("kaboom"), stop.reason());

        SimPlatform sim2 = sim(5);
        SimPlatform.Stop stop2 = sim2.run("first-task", () -> {
            throw new UnsupportedOperationException("from the first task");
        });
        assertEquals(SimPlatform.StopKind.FAILURE, stop2.kind());
        assertTrue(stop2.reason().contains("first-task"), stop2.reason());
        assertTrue(stop2.reason().contains("from the first task"), stop2.reason());
    }

    @Test
    void aTimerCallbackThatThrowsEndsTheRunAsAFailureNamingTheTimer() {
        SimPlatform sim = sim(6);
        SimPlatform.Stop stop = sim.run("init", () -> {
            PlatformTimer[] self = new PlatformTimer[1];
            self[0] = sim.newTimer("selfish", () -> self[0].cancelSync()); // waits for itself: an error
            self[0].arm(Duration.ofMillis(1));
            new Completion(sim, "pause").waitFor(Duration.ofMillis(5));
            sim.stop(SimPlatform.StopKind.DONE, "not reached");
        });
        assertEquals(SimPlatform.StopKind.FAILURE, stop.kind(), stop.reason());
        assertTrue(stop.reason().contains("selfish"), stop.reason());
        assertEquals(1_000_000, sim.nanoTime(), "the run stops when the callback fails");
    }

    @Test
    void theFirstStopWins() {
        SimPlatform sim = sim(1);
        SimPlatform.Stop stop = sim.run("init", () -> {
            sim.stop(SimPlatform.StopKind.HUNG_TASK, "first");
            sim.stop(SimPlatform.StopKind.DONE, "second");
        });
        assertEquals(new SimPlatform.Stop(SimPlatform.StopKind.HUNG_TASK, "first"), stop);
    }

    @Test
    void spinningTasksAreALivelock() {
        SimPlatform sim = new SimPlatform(1, new RandomWalk(1), pool, 5_000);
        List<Task> spinners = new ArrayList<>();
        SimPlatform.Stop stop = sim.run("init", () -> {
            for (String name : new String[] {"spin-a", "spin-b"}) {
                spinners.add(sim.startThread(name, () -> {
                    while (true) {
                        sim.preemptionPoint();
                    }
                }));
            }
            sim.join(spinners.get(0));
        });
        assertEquals(SimPlatform.StopKind.LIVELOCK, stop.kind(), stop.reason());
        assertTrue(stop.reason().contains("5000"), stop.reason());
        assertTrue(sim.steps() > 5_000 && sim.steps() < 5_100, "steps " + sim.steps());
        for (Task t : spinners) {
            assertTrue(t.hasExited(), t + " was not torn down");
        }
    }

    @Test
    void aLoneTaskSpinningOnCpuRelaxIsALivelockNotAHang() {
        SimPlatform sim = new SimPlatform(1, new RandomWalk(1), pool, 2_000);
        SimPlatform.Stop stop = sim.run("init", () -> {
            while (true) {
                sim.cpuRelax();
            }
        });
        assertEquals(SimPlatform.StopKind.LIVELOCK, stop.kind(), stop.reason());
    }

    @Test
    void progressResetsTheLivelockBound() {
        SimPlatform sim = new SimPlatform(2, new RandomWalk(2), pool, 1_000);
        int[] rounds = {0};
        SimPlatform.Stop stop = sim.run("init", () -> {
            Task worker = sim.startThread("worker", () -> {
                for (int i = 0; i < 20_000; i++) {
                    sim.preemptionPoint();
                    if (i % 100 == 0) {
                        sim.progress();
                    }
                    rounds[0]++;
                }
            });
            sim.join(worker);
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertEquals(20_000, rounds[0]);
        assertTrue(sim.steps() > 20_000);
    }

    @Test
    void cpuRelaxLetsAnotherTaskRunEvenUnderPctWithoutChangePoints() {
        for (long seed = 0; seed < 20; seed++) {
            SimPlatform sim = sim(seed, new Pct(seed, 1, 100));
            SimPlatform.Stop stop = sim.run("init", spinWait(sim, true));
            assertDone(stop);
        }
    }

    /** The control for the test above: with a plain preemption point, PCT d=1 keeps picking a spinner that outranks the setter. */
    @Test
    void withoutCpuRelaxAHighPrioritySpinnerStarvesTheSetterUnderPct() {
        int livelocks = 0;
        for (long seed = 0; seed < 20; seed++) {
            SimPlatform sim = sim(seed, new Pct(seed, 1, 100));
            SimPlatform.Stop stop = sim.run("init", spinWait(sim, false));
            if (stop.kind() == SimPlatform.StopKind.LIVELOCK) {
                livelocks++;
            } else {
                assertDone(stop);
            }
        }
        assertTrue(livelocks > 0, "no seed put the spinner above the setter: the cpuRelax test proves nothing");
    }

    private static Runnable spinWait(SimPlatform sim, boolean relax) {
        return () -> {
            boolean[] flag = {false};
            Task spinner = sim.startThread("spinner", () -> {
                while (!flag[0]) {
                    if (relax) {
                        sim.cpuRelax();
                    } else {
                        sim.preemptionPoint();
                    }
                }
            });
            Task setter = sim.startThread("setter", () -> flag[0] = true);
            sim.join(spinner);
            sim.join(setter);
            sim.stop(SimPlatform.StopKind.DONE, "done");
        };
    }

    // ------------------------------------------------------------------ threads and tear-down

    @Test
    void currentTaskFromAThreadTheSimulationDidNotStartThrows() {
        SimPlatform sim = sim(1);
        assertThrows(IllegalStateException.class, sim::currentTask, "before the run");
        AtomicReference<Throwable> fromForeign = new AtomicReference<>();
        Task[] inTask = new Task[1];
        SimPlatform.Stop stop = sim.run("init", () -> {
            inTask[0] = sim.currentTask();
            Thread foreign = new Thread(() -> {
                try {
                    sim.currentTask();
                } catch (Throwable t) {
                    fromForeign.set(t);
                }
            }, "foreign");
            foreign.start();
            joinUninterruptibly(foreign);
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertNotNull(inTask[0]);
        assertEquals("init", inTask[0].name());
        assertInstanceOf(IllegalStateException.class, fromForeign.get(), "a foreign thread during the run got " + fromForeign.get());
        IllegalStateException after = assertThrows(IllegalStateException.class, sim::currentTask, "after the run");
        assertTrue(after.getMessage().contains("not the running task"), after.getMessage());
        assertThrows(IllegalStateException.class, () -> sim.startThread("x", () -> { }));
    }

    /**
     * A foreign thread must not pass for the timer context either: while a callback runs, the
     * simulator reports the timer context as the current task, but only on the thread running it.
     */
    @Test
    void currentTaskFromAForeignThreadThrowsEvenWhileATimerCallbackRuns() {
        SimPlatform sim = sim(1);
        AtomicReference<Object> fromForeign = new AtomicReference<>();
        SimPlatform.Stop stop = sim.run("init", () -> {
            PlatformTimer t = sim.newTimer("t", () -> {
                Thread foreign = new Thread(() -> {
                    try {
                        fromForeign.set(sim.currentTask());
                    } catch (Throwable e) {
                        fromForeign.set(e);
                    }
                }, "foreign");
                foreign.start();
                joinUninterruptibly(foreign);
            });
            t.arm(Duration.ofMillis(1));
            new Completion(sim, "pause").waitFor(Duration.ofMillis(2));
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertInstanceOf(IllegalStateException.class, fromForeign.get(),
                "a foreign thread calling currentTask() during a timer callback got " + fromForeign.get());
    }

    @Test
    void wakeAndTimerArmingFromAForeignThreadAreRefused() {
        SimPlatform sim = sim(1);
        AtomicReference<Object> wake = new AtomicReference<>();
        AtomicReference<Object> arm = new AtomicReference<>();
        SimPlatform.Stop stop = sim.run("init", () -> {
            Task self = sim.currentTask();
            PlatformTimer t = sim.newTimer("t", () -> { });
            Thread foreign = new Thread(() -> {
                try {
                    sim.wake(self);
                    wake.set("no error");
                } catch (Throwable e) {
                    wake.set(e);
                }
                try {
                    t.arm(Duration.ofMillis(1));
                    arm.set("no error");
                } catch (Throwable e) {
                    arm.set(e);
                }
            }, "foreign");
            foreign.start();
            joinUninterruptibly(foreign);
            assertFalse(t.isPending(), "a refused arming leaves the timer disarmed");
            sim.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertInstanceOf(IllegalStateException.class, wake.get(), String.valueOf(wake.get()));
        assertInstanceOf(IllegalStateException.class, arm.get(), String.valueOf(arm.get()));
    }

    private static void joinUninterruptibly(Thread t) {
        while (true) {
            try {
                t.join();
                return;
            } catch (InterruptedException e) {
                // keep waiting
            }
        }
    }

    @Test
    void aSimulationRunsOnce() {
        SimPlatform sim = sim(1);
        sim.run("init", () -> sim.stop(SimPlatform.StopKind.DONE, "done"));
        assertThrows(IllegalStateException.class, () -> sim.run("again", () -> { }));
        assertThrows(IllegalArgumentException.class, () -> new SimPlatform(1, new RandomWalk(1), pool, 0));
    }

    @Test
    void tearDownEndsEveryTaskAndLeavesThePoolReadyForTheNextRun() {
        int runs = 40;
        int tasksPerRun = 5; // init, a mutex holder, two mutex waiters, a sleeper
        for (int run = 0; run < runs; run++) {
            SimPlatform sim = sim(run);
            List<Task> started = new ArrayList<>();
            SimPlatform.Stop stop = sim.run("init", () -> {
                Mutex m = new Mutex(sim, "m");
                Completion never = new Completion(sim, "never");
                started.add(sim.currentTask());
                started.add(sim.startThread("holder", () -> {
                    m.lock();
                    never.waitFor(); // sleeps holding the mutex
                }));
                started.add(sim.startThread("waiter-1", () -> {
                    m.lock();
                    m.unlock();
                }));
                started.add(sim.startThread("waiter-2", () -> {
                    m.lock();
                    m.unlock();
                }));
                started.add(sim.startThread("sleeper", never::waitFor));
                sim.join(started.get(1));
            });
            assertEquals(SimPlatform.StopKind.DEADLOCK, stop.kind(), stop.reason());
            assertEquals(tasksPerRun, started.size());
            for (Task t : started) {
                assertTrue(t.hasExited(), "run " + run + ": " + t + " survived the tear-down");
            }
            for (Task t : sim.tasks()) {
                assertFalse(started.contains(t), "run " + run + ": " + t + " is still listed as live");
            }
        }
        // Every run needs five carriers; released carriers are reused, so the pool does not grow with
        // the number of runs (a carrier kept busy by a torn-down task would force a new thread each run).
        assertTrue(pool.threadsCreated() <= 3 * tasksPerRun, "the pool created " + pool.threadsCreated()
                + " threads for " + runs + " runs of " + tasksPerRun + " tasks");
        // And a final run on the same pool works.
        SimPlatform last = sim(99);
        int[] count = {0};
        SimPlatform.Stop stop = last.run("init", () -> {
            Task t = last.startThread("child", () -> count[0]++);
            last.join(t);
            last.stop(SimPlatform.StopKind.DONE, "done");
        });
        assertDone(stop);
        assertEquals(1, count[0]);
    }

    @Test
    void theTraceRecordsTheRunsEvents() {
        SimPlatform sim = sim(1);
        SimPlatform.Stop stop = sim.run("init", () -> {
            Task child = sim.startThread("child", () -> { });
            sim.join(child);
            sim.stop(SimPlatform.StopKind.DONE, "finished");
        });
        assertDone(stop);
        List<String> tail = sim.trace().tail(100, sim::taskName);
        assertEquals(sim.trace().events(), tail.size(), "no timers in this run: every event is task activity");
        assertTrue(tail.get(0).contains("START") && tail.get(0).contains("init"), tail.get(0));
        assertTrue(tail.stream().anyMatch(l -> l.contains("START") && l.contains("child")), String.join("\n", tail));
        assertTrue(tail.stream().anyMatch(l -> l.contains("EXIT") && l.contains("child")), String.join("\n", tail));
        assertTrue(tail.stream().anyMatch(l -> l.contains("STOP finished")), String.join("\n", tail));
        assertTrue(sim.taskName(-42).contains("42"));
        assertNull(new SimPlatform(1, new RandomWalk(1), pool, 10).stopped());
    }
}
