package dev.rescuer.core.wq;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/** {@code max_active} and ordered queues, with items that sleep. */
class MaxActiveAndOrderingTest {

    @Test
    void maxActiveBoundsRunningItemsEvenWhenTheySleep() {
        try (RescuerSystem sys = system(1)) {
            WorkQueue wq = sys.workqueues().create("two_at_a_time", 2);
            assertEquals(2, wq.maxActive());
            int n = 7;
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            try {
                for (int i = 0; i < n; i++) {
                    assertTrue(wq.queue(new Work("m" + i, () -> {
                        raise(max, inBody.incrementAndGet());
                        gate.waitFor(); // sleeping: concurrency management alone would start the next one
                        inBody.decrementAndGet();
                        done.incrementAndGet();
                    })));
                }
                Poll.until("two items asleep", () -> gate.waitingTasks().size() == 2);
                String dump = sys.workqueues().dump();
                assertTrue(dump.contains("active=2/2"), dump);
                assertTrue(dump.contains("inactive: m2, m3, m4, m5, m6"), "the rest wait inactive, in order:\n" + dump);
                for (int released = 1; released <= n; released++) {
                    gate.complete();
                    int r = released;
                    int expectAsleep = Math.min(2, n - released);
                    Poll.until("next item activated after release " + r,
                            () -> done.get() == r && gate.waitingTasks().size() == expectAsleep);
                    assertTrue(max.get() <= 2, "more than maxActive items ran at once: " + max.get());
                }
            } finally {
                gate.completeAll();
            }
            wq.flush();
            assertEquals(n, done.get());
            assertEquals(2, max.get(), "two did run at once");
            wq.destroy();
        }
    }

    @Test
    void maxActiveIsPerCpuForAPerCpuQueue() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("one_per_cpu", 1);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            try {
                for (int i = 0; i < 6; i++) {
                    wq.queueOn(i % 2, new Work("p" + i, () -> {
                        raise(max, inBody.incrementAndGet());
                        gate.waitFor();
                        inBody.decrementAndGet();
                    }));
                }
                Poll.until("one item asleep per CPU", () -> gate.waitingTasks().size() == 2);
            } finally {
                gate.completeAll();
            }
            wq.flush();
            assertEquals(2, max.get(), "maxActive 1 per CPU on two CPUs");
            wq.destroy();
        }
    }

    @Test
    void orderedQueueRunsOneAtATimeInQueueingOrderEvenWhenItemsSleep() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().createOrdered("ordered_sleepy");
            assertTrue(wq.isOrdered());
            assertEquals(1, wq.maxActive());
            assertTrue(wq.flags().contains(WqFlag.UNBOUND));
            int n = 12;
            List<Completion> gates = new ArrayList<>();
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            AtomicInteger started = new AtomicInteger();
            try {
                for (int i = 0; i < n; i++) {
                    Completion g = new Completion(sys.platform(), "gate" + i);
                    gates.add(g);
                    int id = i;
                    // Queued from several CPUs: order is the queueing order, whatever the CPU.
                    assertTrue(wq.queueOn(i % 2, new Work("o" + i, () -> {
                        raise(max, inBody.incrementAndGet());
                        started.incrementAndGet();
                        order.add(id);
                        g.waitFor();
                        inBody.decrementAndGet();
                    })));
                }
                for (int i = 0; i < n; i++) {
                    Completion g = gates.get(i);
                    Poll.until("item " + i + " asleep", () -> g.waitingTasks().size() == 1);
                    assertEquals(i + 1, started.get(), "while item " + i + " sleeps, no later item may start");
                    g.complete();
                }
            } finally {
                gates.forEach(Completion::completeAll);
            }
            wq.flush();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                expected.add(i);
            }
            assertEquals(expected, order);
            assertEquals(1, max.get());
            wq.destroy();
        }
    }

    @Test
    void orderedQueueKeepsOrderUnderManyShortItemsFromSeveralTasks() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().createOrdered("ordered_busy");
            int producers = 3;
            int perProducer = 2_000;
            List<List<Integer>> seen = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                seen.add(Collections.synchronizedList(new ArrayList<>()));
            }
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            runTasks(sys.platform(), "producer", producers, p -> {
                for (int i = 0; i < perProducer; i++) {
                    int seq = i;
                    wq.queue(new Work("o" + p + "_" + i, () -> {
                        raise(max, inBody.incrementAndGet());
                        seen.get(p).add(seq);
                        inBody.decrementAndGet();
                    }));
                }
            });
            wq.flush();
            assertEquals(1, max.get());
            for (int p = 0; p < producers; p++) {
                List<Integer> s = seen.get(p);
                assertEquals(perProducer, s.size());
                for (int i = 0; i < perProducer; i++) {
                    assertEquals(i, s.get(i), "producer " + p + "'s items out of order");
                }
            }
            wq.destroy();
        }
    }

    @Test
    void invalidCreationArgumentsAreRejectedWithPreciseMessages() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            int queues0 = wqs.queues().size();
            assertEquals("workqueue bhr: BH may only be combined with HIGHPRI, not [MEM_RECLAIM] "
                    + "(BH queues run in softirq context and have no rescuer)",
                    iae(() -> wqs.create("bhr", 0, WqFlag.BH, WqFlag.MEM_RECLAIM)));
            assertEquals("workqueue bhu: BH may only be combined with HIGHPRI, not [UNBOUND]",
                    iae(() -> wqs.create("bhu", 0, WqFlag.BH, WqFlag.UNBOUND)));
            assertEquals("workqueue bhm: a BH queue's maxActive must be 0, got 1",
                    iae(() -> wqs.create("bhm", 1, WqFlag.BH)));
            assertEquals("ordered workqueue oc: only MEM_RECLAIM, FREEZABLE and HIGHPRI may be given, not [CPU_INTENSIVE]",
                    iae(() -> wqs.createOrdered("oc", WqFlag.CPU_INTENSIVE)));
            assertEquals("ordered workqueue ob: only MEM_RECLAIM, FREEZABLE and HIGHPRI may be given, not [BH]",
                    iae(() -> wqs.createOrdered("ob", WqFlag.BH)));
            assertEquals("a workqueue needs a non-blank name", iae(() -> wqs.create("  ", 0)));
            assertEquals("a workqueue needs a non-blank name", iae(() -> wqs.create("", 0)));
            assertEquals("a workqueue needs a non-blank name", iae(() -> wqs.create(null, 0)));
            assertEquals("a workqueue needs a non-blank name", iae(() -> wqs.createOrdered(" ")));
            assertEquals(queues0, wqs.queues().size(), "a rejected queue is not registered");
            assertTrue(sys.platform().tasks().stream().noneMatch(t -> t.name().equals("kworker/R-bhr")),
                    "a rejected MEM_RECLAIM queue leaves no rescuer behind");

            // The edges of the valid range are accepted.
            WorkQueue max = wqs.create("max", Workqueues.MAX_ACTIVE);
            assertEquals(2048, max.maxActive());
            WorkQueue dflt = wqs.create("dflt", 0);
            assertEquals(Workqueues.DEFAULT_ACTIVE, dflt.maxActive());
            WorkQueue bhHi = wqs.create("bhhi", 0, WqFlag.BH, WqFlag.HIGHPRI);
            assertFalse(bhHi.hasRescuer());
            WorkQueue ord = wqs.createOrdered("ord", WqFlag.MEM_RECLAIM, WqFlag.FREEZABLE, WqFlag.HIGHPRI);
            assertTrue(ord.hasRescuer());
            for (WorkQueue q : List.of(max, dflt, bhHi, ord)) {
                q.destroy();
            }
        }
    }

    private static String iae(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    @Test
    void freezableQueueHoldsNewItemsWhileFrozen() {
        try (RescuerSystem sys = system(1)) {
            Workqueues wqs = sys.workqueues();
            WorkQueue fq = wqs.create("freezable", 0, WqFlag.FREEZABLE);
            WorkQueue plain = wqs.create("plain", 0);
            AtomicInteger runs = new AtomicInteger();
            wqs.freeze();
            try {
                Work w = new Work("held", runs::incrementAndGet);
                assertTrue(fq.queue(w));
                Work p = new Work("free", () -> { });
                assertTrue(plain.queue(p));
                p.flush(); // other queues keep running
                String dump = wqs.dump();
                assertTrue(dump.contains("inactive: held"), dump);
                assertEquals(0, runs.get());
                assertTrue(w.isPending());
            } finally {
                wqs.thaw();
            }
            fq.flush();
            assertEquals(1, runs.get());
            fq.destroy();
            plain.destroy();
        }
    }

    @Test
    void unboundQueueMaxActiveIsSystemWide() {
        try (RescuerSystem sys = system(WorkqueueConfig.defaults().withCpus(2).withCpuIntensiveThreshold(Duration.ofSeconds(30)))) {
            WorkQueue wq = sys.workqueues().create("unbound_three", 3, WqFlag.UNBOUND);
            Completion gate = new Completion(sys.platform(), "gate");
            AtomicInteger inBody = new AtomicInteger();
            AtomicInteger max = new AtomicInteger();
            try {
                for (int i = 0; i < 9; i++) {
                    wq.queueOn(i % 2, new Work("u" + i, () -> {
                        raise(max, inBody.incrementAndGet());
                        gate.waitFor();
                        inBody.decrementAndGet();
                    }));
                }
                Poll.until("three asleep", () -> gate.waitingTasks().size() == 3);
                String dump = sys.workqueues().dump();
                assertTrue(dump.contains("inactive: u3, u4, u5, u6, u7, u8"), dump);
            } finally {
                gate.completeAll();
            }
            wq.flush();
            assertEquals(3, max.get());
            wq.destroy();
        }
    }
}
