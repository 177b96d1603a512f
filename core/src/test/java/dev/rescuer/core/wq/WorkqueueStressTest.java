package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.rescuer.core.wq.WqTesting.runTasks;
import static dev.rescuer.core.wq.WqTesting.system;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A million queueing attempts from several tasks over a small set of items on a per-CPU and an unbound
 * queue, mixed with cancel, cancelSync, disable, flush of items and queues, self re-queueing, and
 * scratch queues created and destroyed under load. Afterwards: nothing lost (each item ran exactly as
 * often as it was successfully queued and not cancelled), nothing ran concurrently with itself, the
 * subsystem's counters balance, and no thread is left once the system is closed.
 */
class WorkqueueStressTest {

    private static final int CPUS = 2;
    private static final int PRODUCERS = 4;
    private static final int OPS_PER_PRODUCER = 500_000; // 2,000,000 random operations in all
    private static final int ITEMS = 64;
    /** Of the items, every fourth is a DelayedWork, queued now or after a short random delay. */
    private static final int DELAYED_EVERY = 4;
    private static final int SCRATCH_EVERY = 50_000;
    private static final int SCRATCH_ITEMS = 20;

    private static final class Item {
        final WorkQueue wq;
        final boolean percpu;
        final boolean delayed;
        final AtomicInteger inBody = new AtomicInteger();
        final AtomicBoolean overlapped = new AtomicBoolean();
        final AtomicLong runs = new AtomicLong();
        final AtomicLong queuedOk = new AtomicLong();
        final AtomicLong cancelledOk = new AtomicLong();
        Work work;

        Item(WorkQueue wq, boolean percpu, boolean delayed) {
            this.wq = wq;
            this.percpu = percpu;
            this.delayed = delayed;
        }
    }

    /*
     * The timeout guards against a hang, not against slowness: the run takes about 5 s on a quiet
     * 2-core machine and passed the suite's default of 60 s once at a load average of 30.
     */
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aMillionRandomOperationsLoseNothingAndLeaveNothingBehind() {
        RescuerSystem sys = system(CPUS);
        Thread dumper = hangDumper(sys, Duration.ofSeconds(270));
        try {
            run(sys);
        } finally {
            dumper.interrupt();
            sys.close(); // idempotent for the workqueues; run() closes it itself on success
        }
    }

    /**
     * A diagnostic, not a synchronization: if the run is still going after {@code after} (just under
     * the timeout), prints every thread's stack and the workqueue dump, so that a rare hang can be
     * read from the test report. Interrupted when the run ends.
     */
    private static Thread hangDumper(RescuerSystem sys, Duration after) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(after.toMillis());
            } catch (InterruptedException done) {
                return;
            }
            StringBuilder sb = new StringBuilder("WorkqueueStressTest still running after " + after + "; threads:\n");
            Thread.getAllStackTraces().forEach((th, st) -> {
                sb.append('"').append(th.getName()).append("\" ").append(th.getState()).append('\n');
                for (StackTraceElement e : st) {
                    sb.append("\tat ").append(e).append('\n');
                }
            });
            sb.append(sys.workqueues().dump());
            System.err.println(sb);
        }, "stress-hang-dumper");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void run(RescuerSystem sys) {
        Workqueues wqs = sys.workqueues();
        WorkqueueStats s0 = wqs.stats();
        WorkQueue percpu = wqs.create("stress_percpu", 0);
        WorkQueue unbound = wqs.create("stress_unbound", 0, WqFlag.UNBOUND);
        AtomicBoolean selfRequeue = new AtomicBoolean(true);
        List<Item> items = new ArrayList<>();
        for (int i = 0; i < ITEMS; i++) {
            boolean delayed = i % DELAYED_EVERY == DELAYED_EVERY - 1;
            Item it = i % 2 == 0 ? new Item(percpu, true, delayed) : new Item(unbound, false, delayed);
            Runnable body = () -> {
                if (it.inBody.incrementAndGet() != 1) {
                    it.overlapped.set(true);
                }
                it.runs.incrementAndGet();
                if (selfRequeue.get() && ThreadLocalRandom.current().nextInt(8) == 0 && it.wq.queue(it.work)) {
                    it.queuedOk.incrementAndGet();
                }
                it.inBody.decrementAndGet();
            };
            it.work = delayed ? new DelayedWork("stress_delayed" + i, body) : new Work("stress" + i, body);
            items.add(it);
        }
        AtomicLong scratchQueued = new AtomicLong();
        AtomicLong scratchRuns = new AtomicLong();
        AtomicLong queueFlushes = new AtomicLong();

        runTasks(sys.platform(), "stress", PRODUCERS, p -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            for (int op = 0; op < OPS_PER_PRODUCER; op++) {
                Item it = items.get(rnd.nextInt(ITEMS));
                int r = rnd.nextInt(1000);
                if (r < 40) {
                    if (it.work.cancel()) {
                        it.cancelledOk.incrementAndGet();
                    }
                } else if (r < 50) {
                    if (it.work.cancelSync()) {
                        it.cancelledOk.incrementAndGet();
                    }
                } else if (r < 70) {
                    it.work.flush();
                } else if (r < 75) {
                    if (it.work.disable()) {
                        it.cancelledOk.incrementAndGet();
                    }
                    it.work.enable();
                } else if (r < 76) {
                    it.wq.flush();
                    queueFlushes.incrementAndGet();
                } else {
                    boolean ok;
                    if (it.delayed && rnd.nextBoolean()) {
                        Duration delay = Duration.ofNanos(rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(300_000));
                        ok = it.percpu && rnd.nextBoolean() ? it.wq.queueDelayedOn(rnd.nextInt(CPUS), (DelayedWork) it.work, delay)
                                : it.wq.queueDelayed((DelayedWork) it.work, delay);
                    } else {
                        ok = it.percpu && rnd.nextBoolean() ? it.wq.queueOn(rnd.nextInt(CPUS), it.work) : it.wq.queue(it.work);
                    }
                    if (ok) {
                        it.queuedOk.incrementAndGet();
                    }
                }
                if (op % SCRATCH_EVERY == SCRATCH_EVERY - 1) {
                    scratchCycle(wqs, p + "_" + op, rnd, scratchQueued, scratchRuns);
                }
            }
        });

        // Stop self re-queueing, fire what still sits on a timer, and let the chains run out.
        selfRequeue.set(false);
        for (Item it : items) {
            if (it.delayed) {
                it.work.flush();
            }
        }
        percpu.drain();
        unbound.drain();

        long queuedOk = 0;
        long cancelledOk = 0;
        long runs = 0;
        long delayedStarts = 0;
        long delayedCancels = 0;
        long delayedRuns = 0;
        for (Item it : items) {
            assertFalse(it.overlapped.get(), it.work + " ran concurrently with itself");
            assertEquals(it.queuedOk.get() - it.cancelledOk.get(), it.runs.get(),
                    it.work + ": runs must equal successful queueings minus successful cancels");
            assertFalse(it.work.isPending(), it.work + " pending after drain");
            assertFalse(it.work.isBusy(), it.work + " busy after drain");
            assertFalse(it.work.isDisabled());
            if (it.delayed) {
                assertFalse(((DelayedWork) it.work).isTimerPending(), it.work + " still on its timer");
                delayedStarts += it.queuedOk.get();
                delayedCancels += it.cancelledOk.get();
                delayedRuns += it.runs.get();
            } else {
                queuedOk += it.queuedOk.get();
                cancelledOk += it.cancelledOk.get();
                runs += it.runs.get();
            }
        }
        assertTrue(queuedOk > 50_000, "the stress really queued: " + queuedOk);
        assertTrue(cancelledOk > 0, "and really cancelled");
        assertTrue(delayedStarts > 1_000 && delayedCancels > 0, "delayed items took part: " + delayedStarts + "/" + delayedCancels);
        assertTrue(queueFlushes.get() > 0);
        assertEquals(PRODUCERS * (OPS_PER_PRODUCER / SCRATCH_EVERY) * SCRATCH_ITEMS, scratchQueued.get());
        assertEquals(scratchQueued.get(), scratchRuns.get(), "scratch queues ran everything before destroy returned");

        WorkqueueStats s1 = wqs.stats();
        long dQueued = s1.queued() - s0.queued();
        long dExecuted = s1.executed() - s0.executed();
        // stats().queued() counts insertions on a queue: every plain queueing, and every delayed one
        // whose timer fired (those cancelled on their timer never got there).
        long dQueuedDelayed = dQueued - queuedOk - scratchQueued.get();
        assertTrue(dQueuedDelayed >= delayedRuns && dQueuedDelayed <= delayedRuns + delayedCancels,
                "delayed insertions " + dQueuedDelayed + " vs runs " + delayedRuns + " and cancels " + delayedCancels);
        assertEquals(runs + delayedRuns + scratchRuns.get(), dExecuted, "stats().executed() counts every run");
        assertEquals(dQueued - dQueuedDelayed - cancelledOk, dExecuted - delayedRuns,
                "every plain queueing either ran or was cancelled, exactly once");
        assertEquals(s0.failures(), s1.failures());

        percpu.destroy();
        unbound.destroy();
        List<Task> kthreads = new ArrayList<>();
        for (Task t : sys.platform().tasks()) {
            if (isKthread(t)) {
                kthreads.add(t);
            }
        }
        assertTrue(kthreads.size() >= 1 + CPUS * 2 + 2 + CPUS, "kthreadd, workers and softirq contexts alive: " + kthreads);
        sys.close();
        List<String> left = new ArrayList<>();
        for (Task t : sys.platform().tasks()) {
            if (isKthread(t)) {
                left.add(t.name());
            }
        }
        assertEquals(List.of(), left, "threads left after close");
        for (Task t : kthreads) {
            assertTrue(t.hasExited(), t.name() + " has not exited");
        }
    }

    private static boolean isKthread(Task t) {
        String n = t.name();
        return n.startsWith("kworker") || n.equals("kthreadd") || n.startsWith("ksoftirqd");
    }

    /** Creates a queue, queues fresh items on it, destroys it, and checks they all ran and it refuses more. */
    private static void scratchCycle(Workqueues wqs, String tag, ThreadLocalRandom rnd, AtomicLong queued, AtomicLong runs) {
        WqFlag[][] flagSets = {{}, {WqFlag.UNBOUND}, {WqFlag.MEM_RECLAIM}, {WqFlag.BH}};
        WqFlag[] flags = flagSets[rnd.nextInt(flagSets.length)];
        WorkQueue scratch = wqs.create("scratch" + tag, 0, flags);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < SCRATCH_ITEMS; i++) {
            if (scratch.queue(new Work("scratch" + tag + "_" + i, () -> {
                ran.incrementAndGet();
                runs.incrementAndGet();
            }))) {
                queued.incrementAndGet();
            }
        }
        Task rescuer = scratch.rescuerTask();
        scratch.destroy();
        if (ran.get() != SCRATCH_ITEMS) {
            throw new AssertionError("scratch queue " + scratch.name() + " destroyed with " + ran.get() + "/" + SCRATCH_ITEMS + " run");
        }
        if (rescuer != null && !rescuer.hasExited()) {
            throw new AssertionError("rescuer of " + scratch.name() + " still alive after destroy");
        }
        try {
            scratch.queue(new Work("too_late", () -> { }));
            throw new AssertionError("queueing on destroyed " + scratch.name() + " succeeded");
        } catch (IllegalStateException expected) {
            // refused, as it must be
        }
    }
}
