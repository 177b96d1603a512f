package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Mempool;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.RwSemaphore;
import dev.rescuer.core.sync.Semaphore;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.sim.CarrierPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a hang report shows, on small scenarios built here: timed retry waits in a livelock, edges
 * through {@code flush_work}, {@code flush_workqueue} and mempool waits, the real blocker of an item
 * held back by {@code max_active}, and every edge of a task in the chains.
 */
class HangReportTest {

    private static final int SCHEDULES = 6;

    private CarrierPool pool;

    @BeforeEach
    void createPool() {
        pool = new CarrierPool("hang-report-test");
    }

    @AfterEach
    void closePool() {
        pool.close();
    }

    private HangReport hang(InlineScenario s, StrategyKind kind, int schedule, long livelockBound, String expectedKind) {
        RunResult r = s.run(kind, schedule, pool, livelockBound);
        assertEquals(Outcome.HANG, r.outcome(), kind + " schedule " + schedule + ": " + r.reason());
        assertNotNull(r.report());
        assertEquals(expectedKind, r.report().kind(), r.report().toText());
        return r.report();
    }

    /**
     * Two tasks each hold one mempool's only element and allocate from the other's: each waits 5 s
     * for a free, re-checks, and waits again, so no wait lasts long enough for the hung-task
     * detector, and the run ends as a livelock. The report shows both tasks' timed waits and how many
     * rounds they made.
     */
    @Test
    void aLivelockInTimedRetryWaitsShowsEachTasksWaitItsDeadlineAndItsRounds() {
        InlineScenario s = new InlineScenario("mempool-livelock", 100, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("mp").totalPages(64).pagesPerThread(0).withoutWorkqueues());
            Mempool<Pages> a = Mempool.ofPages(sys.pages(), "pool-a", 1, 1);
            Mempool<Pages> b = Mempool.ofPages(sys.pages(), "pool-b", 1, 1);
            while (sys.pages().tryAllocate(1, Gfp.NOIO.with(Gfp.Modifier.RETRY_MAYFAIL)) != null) { // only the reserves are left
            }
            Completion t1Holds = new Completion(ctx.platform(), "t1-holds");
            Completion t2Holds = new Completion(ctx.platform(), "t2-holds");
            ctx.spawn("t1", () -> {
                a.allocate(Gfp.NOIO);
                t1Holds.complete();
                t2Holds.waitFor();
                b.allocate(Gfp.NOIO);
            });
            ctx.spawn("t2", () -> {
                b.allocate(Gfp.NOIO);
                t2Holds.complete();
                t1Holds.waitFor();
                a.allocate(Gfp.NOIO);
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, kind, i, 2_000, "livelock");
                String text = report.toText();
                assertFalse(text.contains("(none)"), text);
                for (String[] task : new String[][] {{"t1", "pool-b"}, {"t2", "pool-a"}}) {
                    HangReport.BlockedTask b = report.blocked().stream().filter(x -> x.task().equals(task[0])).findFirst().orElse(null);
                    if (b != null) {
                        assertEquals("mempool " + task[1], b.primitive(), text);
                        assertTrue(b.timed(), "a mempool wait re-checks after 5 s:\n" + text);
                        assertTrue(b.timesOutInNanos() <= 5_000_000_000L, text);
                        assertTrue(b.waitsInARow() > 10, "the rounds of the retry loop are not counted:\n" + text);
                        assertTrue(b.waitingInAllNanos() > 50_000_000_000L && b.waitingInAllNanos() > b.blockedNanos(), text);
                        assertTrue(text.contains("in a row on it"), text);
                    } else {
                        // Between two rounds: runnable, and the report still says what it keeps waiting on.
                        assertTrue(text.lines().anyMatch(l -> l.contains(task[0] + ":") && l.contains("in a row on waitqueue mempool " + task[1])),
                                task[0] + " is neither blocked nor shown with its waits:\n" + text);
                    }
                }
                // Mempool waits have an edge to the pool's holder: t1 waits on pool-b, which t2 holds, and the reverse.
                List<String> edges = new java.util.ArrayList<>();
                report.chains().forEach(edges::addAll);
                report.cycles().forEach(edges::addAll);
                assertTrue(edges.stream().anyMatch(e -> e.contains("mempool pool-b: 1 element allocated") && e.contains("by t2:")
                                || e.contains("mempool pool-a: 1 element allocated") && e.contains("by t1:")),
                        "no edge from a mempool wait to the task holding the pool's element:\n" + text);
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> json = (List<Map<String, Object>>) report.toMap().get("blocked_tasks");
                for (Map<String, Object> e : json) {
                    assertTrue(e.containsKey("timed") && e.containsKey("times_out_in_ns") && e.containsKey("waits_in_a_row")
                            && e.containsKey("about_to_recheck"), e.toString());
                    assertEquals(List.of("name", "class", "kind"), List.copyOf(((Map<?, ?>) e.get("waits_on")).keySet()),
                            "waits_on's keys come in one order in every JVM");
                }
            }
        }
    }

    /**
     * A task holds a mutex and flushes an item that needs it: the flush has an edge to the item's
     * runner, which waits on the mutex the flusher holds. The same through a queue flush.
     */
    @Test
    void flushWorkAndFlushWorkqueueWaitsHaveEdgesToTheRunnersOfWhatTheyWaitFor() {
        InlineScenario s = new InlineScenario("flush-cycles", 200, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("fl").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            WorkQueue q1 = sys.workqueues().create("q1", 0);
            WorkQueue q2 = sys.workqueues().create("q2", 0);
            Mutex m1 = new Mutex(platform, "m1");
            Mutex m2 = new Mutex(platform, "m2");
            Work a = new Work("needs-m1", () -> {
                m1.lock();
                m1.unlock();
            });
            Work b = new Work("needs-m2", () -> {
                m2.lock();
                m2.unlock();
            });
            ctx.spawn("work-flusher", () -> {
                m1.lock();
                q1.queue(a);
                a.flush();
                m1.unlock();
            });
            ctx.spawn("queue-flusher", () -> {
                m2.lock();
                q2.queue(b);
                q2.flush();
                m2.unlock();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, kind, i, 200_000, "hung task");
                String text = report.toText();
                assertTrue(report.cycles().stream().anyMatch(c -> c.stream().anyMatch(e -> e.startsWith("work-flusher:")
                                && e.contains("flush of work needs-m1 on workqueue q1, running in kworker/"))
                                && c.stream().anyMatch(e -> e.contains("mutex m1, held by work-flusher:"))),
                        "no cycle through flush_work:\n" + text);
                assertTrue(report.cycles().stream().anyMatch(c -> c.stream().anyMatch(e -> e.startsWith("queue-flusher:")
                                && e.contains("flush of workqueue q2, in flight: work needs-m2 on workqueue q2, running in kworker/"))
                                && c.stream().anyMatch(e -> e.contains("mutex m2, held by queue-flusher:"))),
                        "no cycle through flush_workqueue:\n" + text);
            }
        }
    }

    /**
     * A wait queue whose owner is set (as core sets it on a work item's and a queue's flush wait queue,
     * and on a mempool's) leads to whoever finishes what it belongs to, whatever its name.
     */
    @Test
    void aWaitQueuesOwnerLeadsToWhoeverCanFinishWhatItBelongsTo() {
        InlineScenario s = new InlineScenario("owned-wait-queues", 200, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ow").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            WorkQueue q = sys.workqueues().create("owned", 0);
            Mutex m = new Mutex(platform, "m");
            Work item = new Work("needs-m", () -> {
                m.lock();
                m.unlock();
            });
            WaitQueue byItem = new WaitQueue(platform, "custom-item-wait");
            byItem.setOwner(item);
            WaitQueue byQueue = new WaitQueue(platform, "custom-queue-wait");
            byQueue.setOwner(q);
            Mempool<Pages> mp = Mempool.ofPages(sys.pages(), "owned-pool", 1, 1);
            WaitQueue byPool = new WaitQueue(platform, "custom-pool-wait");
            byPool.setOwner(mp);
            ctx.spawn("holder", () -> {
                m.lock();
                q.queue(item);
                byItem.waitEvent(() -> false);
            });
            ctx.spawn("queue-waiter", () -> byQueue.waitEvent(() -> false));
            ctx.spawn("pool-waiter", () -> byPool.waitEvent(() -> false));
        });
        HangReport report = hang(s, StrategyKind.PCT, 0, 200_000, "hung task");
        String text = report.toText();
        assertTrue(report.cycles().stream().anyMatch(c -> c.stream().anyMatch(e -> e.startsWith("holder:")
                && e.contains("custom-item-wait, released by flush of work needs-m on workqueue owned, running in kworker/"))), text);
        assertTrue(text.contains("custom-queue-wait, released by flush of workqueue owned, in flight: work needs-m on workqueue owned, running in kworker/"), text);
        assertTrue(text.contains("custom-pool-wait, released by mempool owned-pool (1/1 reserved, 0 out): released when a holder frees an element"), text);
    }

    /**
     * An item held back by {@code max_active} waits for the active item ahead of it, not for the
     * queue's rescuer (which runs only active items): the flusher of the held-back item holds the
     * mutex the active item's runner needs, and the report closes that cycle.
     */
    @Test
    void anItemHeldBackByMaxActiveIsReleasedByTheRunnerOfTheActiveItemAheadNotByTheRescuer() {
        InlineScenario s = new InlineScenario("max-active-blocker", 200, (ctx, v) -> {
            RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ma").totalPages(4096)
                    .workqueues(WorkqueueConfig.defaults().withCpus(1)));
            Platform platform = ctx.platform();
            WorkQueue lim = sys.workqueues().create("lim", 1, WqFlag.MEM_RECLAIM);
            Mutex m = new Mutex(platform, "m");
            Completion secondDone = new Completion(platform, "second-done");
            Work first = new Work("first", () -> {
                m.lock();
                m.unlock();
            });
            Work second = new Work("second", secondDone::complete);
            ctx.releasers(secondDone, () -> Releaser.forWork(sys.workqueues(), second));
            ctx.spawn("holder", () -> {
                m.lock();
                lim.queue(first);
                lim.queue(second); // inactive: max_active 1
                secondDone.waitFor();
                m.unlock();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, kind, i, 200_000, "hung task");
                String text = report.toText();
                assertTrue(report.cycles().stream().anyMatch(c -> c.stream().anyMatch(e -> e.startsWith("holder:")
                                && e.contains("work second on workqueue lim, held back by max_active behind work first on workqueue lim, running in kworker/"))),
                        "the held-back item's blocker is not the active item's runner:\n" + text);
                assertFalse(text.contains("work second on workqueue lim, pending; its rescuer is"),
                        "the rescuer is named for an inactive item it cannot run:\n" + text);
            }
        }
    }

    /**
     * A task waits on a semaphore that either of two tasks could up, each stuck on its own completion:
     * there is no cycle, and the chains follow both edges.
     */
    @Test
    void chainsFollowEveryEdgeOfATaskNotOnlyItsFirst() {
        InlineScenario s = new InlineScenario("two-releasers", 50, (ctx, v) -> {
            Platform platform = ctx.platform();
            Semaphore sem = new Semaphore(platform, "sem", 0);
            Completion never1 = new Completion(platform, "never-1");
            Completion never2 = new Completion(platform, "never-2");
            List<dev.rescuer.core.platform.Task> uppers = new java.util.ArrayList<>();
            ctx.releasers(sem, () -> uppers.stream().map(Releaser::task).toList());
            uppers.add(ctx.spawn("upper-1", () -> {
                never1.waitFor();
                sem.up();
            }));
            uppers.add(ctx.spawn("upper-2", () -> {
                never2.waitFor();
                sem.up();
            }));
            ctx.spawn("downer", sem::down);
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, kind, i, 200_000, "deadlock");
                String text = report.toText();
                assertTrue(report.cycles().isEmpty(), text);
                for (String upper : new String[] {"upper-1", "upper-2"}) {
                    // The upper waits on a completion nobody is declared to complete: the chain ends at it.
                    assertTrue(report.chains().stream().anyMatch(c -> c.size() == 1 && c.get(0).startsWith("downer:")
                                    && c.get(0).endsWith("released by " + upper + ":" + idOf(report, upper))),
                            "no chain from downer through " + upper + ":\n" + text);
                }
            }
        }
    }

    /**
     * A daemon asleep in an idle wait (an event only {@code waker} would post) stands behind a blocked
     * task's wait. With a releaser declared for the idle wait the report follows the daemon, and the
     * cycle {@code holder} → daemon → {@code waker} → {@code holder} closes; without one the daemon stays
     * out of the graph (its wait may never end, as any daemon's), and so does a daemon no edge reaches.
     */
    @Test
    void anIdleWaitIsFollowedOnlyWhenAnEdgeReachesItAndItsReleaserIsDeclared() {
        for (boolean declared : new boolean[] {true, false}) {
            InlineScenario s = new InlineScenario("idle-daemon", 100, (ctx, v) -> {
                Platform platform = ctx.platform();
                Mutex m = new Mutex(platform, "m");
                Completion done = new Completion(platform, "daemon-done");
                Completion held = new Completion(platform, "m-held");
                WaitQueue events = WaitQueue.idle(platform, "daemon-events", "daemon-events");
                WaitQueue other = WaitQueue.idle(platform, "bystander-events", "bystander-events");
                boolean[] posted = new boolean[1];
                Task daemon = ctx.spawn("daemon", () -> {
                    events.waitEvent(() -> posted[0]);
                    done.complete();
                });
                Task bystander = ctx.spawn("bystander", () -> other.waitEvent(() -> false));
                Task waker = ctx.spawn("waker", () -> {
                    held.waitFor();
                    m.lock(); // held by holder for good
                    m.unlock();
                    posted[0] = true;
                    events.wakeUpAll();
                });
                ctx.spawn("holder", () -> {
                    m.lock();
                    held.complete();
                    done.waitFor();
                    m.unlock();
                });
                ctx.releasers(done, () -> List.of(Releaser.task(daemon)));
                ctx.releasers(other, () -> List.of(Releaser.task(waker)));
                if (declared) {
                    ctx.releasers(events, () -> List.of(Releaser.task(waker)));
                }
            });
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, StrategyKind.PCT, i, 200_000, "deadlock");
                String text = report.toText();
                List<String> all = new java.util.ArrayList<>();
                report.cycles().forEach(all::addAll);
                report.chains().forEach(all::addAll);
                assertTrue(all.stream().noneMatch(e -> e.startsWith("bystander:")), text);
                if (declared) {
                    assertEquals(1, report.cycles().size(), text);
                    String cycle = String.join("\n", report.cycles().get(0));
                    assertTrue(cycle.contains("daemon:") && cycle.contains("waits on waitqueue daemon-events")
                            && cycle.contains("released by waker:") && cycle.contains("held by holder:"), text);
                    assertTrue(report.chains().stream().noneMatch(c -> c.get(0).startsWith("daemon:")), text);
                } else {
                    assertTrue(report.cycles().isEmpty(), text);
                    assertTrue(all.stream().noneMatch(e -> e.startsWith("daemon:")), text);
                }
            }
        }
    }

    /**
     * A reader queued on a write-held rw-semaphore ahead of a writer waits for the holder only: the
     * writer behind it does not keep it waiting (the next release grants the readers' phase to the
     * reader first in line). The holder waits for a mutex the reader holds, so the one cycle is
     * reader → holder → reader; the writer queued behind the reader is on no cycle.
     */
    @Test
    void aReaderQueuedAheadOfAWriterDoesNotWaitForThatWriter() {
        InlineScenario s = new InlineScenario("rwsem-reader-ahead", 100, (ctx, v) -> {
            Platform platform = ctx.platform();
            RwSemaphore rw = new RwSemaphore(platform, "rw");
            Mutex m = new Mutex(platform, "m");
            Completion writeHeld = new Completion(platform, "write-held");
            ctx.spawn("holder", () -> {
                rw.downWrite();
                writeHeld.completeAll();
                while (rw.queuedWriters().isEmpty()) { // the reader, then the writer, queue behind it
                    platform.cpuRelax();
                }
                m.lock();
            });
            ctx.spawn("reader", () -> {
                m.lock();
                writeHeld.waitFor();
                rw.downRead();
            });
            ctx.spawn("writer", () -> {
                writeHeld.waitFor();
                while (rw.queuedReaders().isEmpty()) {
                    platform.cpuRelax();
                }
                rw.downWrite();
            });
        });
        for (StrategyKind kind : StrategyKind.values()) {
            for (int i = 0; i < SCHEDULES; i++) {
                HangReport report = hang(s, kind, i, 200_000, "deadlock");
                String text = report.toText();
                assertEquals(1, report.cycles().size(), text);
                String cycle = String.join("\n", report.cycles().get(0));
                assertTrue(cycle.contains("reader:") && cycle.contains("held for write by holder:")
                        && !cycle.contains("writer:"), text);
                assertFalse(text.contains("behind queued writer"), "the reader is ahead of the writer:\n" + text);
            }
        }
    }

    private static long idOf(HangReport report, String task) {
        return report.blocked().stream().filter(b -> b.task().equals(task)).findFirst().orElseThrow().id();
    }
}
