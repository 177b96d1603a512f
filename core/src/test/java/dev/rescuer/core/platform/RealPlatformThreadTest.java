package dev.rescuer.core.platform;

import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Task lifecycle on {@link RealPlatform}: starting, joining, failures, the live-task list, the start cost. */
class RealPlatformThreadTest {

    private RealPlatform platform;
    private final AtomicLong seq = new AtomicLong();

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
    }

    @AfterEach
    void tearDown() {
        platform.close();
    }

    /** Names of the started tasks; adopted ones (JUnit's per-method threads) come and go on their own. */
    private static List<String> names(Collection<Task> tasks) {
        List<String> out = new ArrayList<>();
        for (Task t : tasks) {
            if (!t.isAdopted()) {
                out.add(t.name());
            }
        }
        return out;
    }

    @Test
    void theBodyRunsWithItsOwnTaskAsCurrentTask() {
        AtomicReference<Task> seen = new AtomicReference<>();
        AtomicReference<String> threadName = new AtomicReference<>();
        Task creator = platform.currentTask();
        Task t = platform.startThread("worker/1", () -> {
            seen.set(platform.currentTask());
            threadName.set(Thread.currentThread().getName());
        });
        platform.join(t);
        assertSame(t, seen.get());
        assertEquals("worker/1", t.name());
        assertEquals("worker/1", threadName.get());
        assertFalse(t.isAdopted());
        assertTrue(creator.isAdopted());
        assertTrue(t.id() != creator.id());
        assertSame(platform, t.platform());
        assertTrue(t.hasExited());
        assertEquals(Task.State.EXITED, t.state());
        assertNull(t.failure());
    }

    @Test
    void joinWaitsForTheTaskToExit() {
        Completion go = new Completion(platform, "go");
        AtomicBoolean bodyDone = new AtomicBoolean();
        AtomicBoolean bodyDoneWhenJoinReturned = new AtomicBoolean();
        Task t = platform.startThread("joinee", () -> {
            go.waitFor();
            bodyDone.set(true);
        });
        DrivenTask joiner = new DrivenTask(platform, "joiner", seq);
        try {
            DrivenTask.Op op;
            try {
                op = joiner.runUntilBlocked(() -> {
                    platform.join(t);
                    bodyDoneWhenJoinReturned.set(bodyDone.get());
                }, t.exitEvent());
                assertFalse(t.hasExited());
                assertEquals("exit of task joinee [task-exit]", t.exitEvent().describe());
            } finally {
                go.complete();
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(bodyDoneWhenJoinReturned.get(), "join returned before the body finished");
            assertTrue(t.hasExited());
        } finally {
            Bounded.closeUnlessBlocked(joiner);
        }
        platform.join(t); // an exited task is joined at once
    }

    @Test
    void aBodyThatThrowsIsRecordedAsTheTaskFailure() {
        IllegalStateException boom = new IllegalStateException("boom");
        Task t = platform.startThread("doomed", () -> {
            throw boom;
        });
        platform.join(t);
        assertSame(boom, t.failure());
        assertEquals(Task.State.EXITED, t.state());
        assertFalse(names(platform.tasks()).contains("doomed"));
    }

    @Test
    void tasksListsLiveTasksInIdOrderAndDropsExitedOnes() {
        Completion go = new Completion(platform, "go");
        Task self = platform.currentTask();
        Task a;
        Task b;
        try {
            a = platform.startThread("live-a", go::waitFor);
            b = platform.startThread("live-b", go::waitFor);
            Collection<Task> live = platform.tasks();
            assertTrue(live.contains(a) && live.contains(b) && live.contains(self), names(live).toString());
            long last = Long.MIN_VALUE;
            for (Task t : live) {
                assertTrue(t.id() > last, "tasks() is sorted by id: " + live);
                last = t.id();
            }
        } finally {
            go.completeAll();
        }
        platform.join(a);
        platform.join(b);
        Collection<Task> after = platform.tasks();
        assertFalse(after.contains(a), after.toString());
        assertFalse(after.contains(b), after.toString());
        assertTrue(after.contains(self));
    }

    @Test
    void anAdoptedThreadIsDroppedFromTasksOnceItDies() throws InterruptedException {
        AtomicReference<Task> adopted = new AtomicReference<>();
        Thread foreign = new Thread(() -> adopted.set(platform.currentTask()), "foreign-thread");
        foreign.start();
        foreign.join();
        assertNotNull(adopted.get());
        assertTrue(adopted.get().isAdopted());
        assertEquals("foreign-thread", adopted.get().name());
        assertFalse(platform.tasks().contains(adopted.get()), "a dead adopted thread is not live");
    }

    @Test
    void joinOnSelfThrows() {
        Task self = platform.currentTask();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> platform.join(self));
        assertTrue(e.getMessage().contains("cannot join itself"), e.getMessage());

        AtomicReference<Throwable> inBody = new AtomicReference<>();
        Task t = platform.startThread("selfish", () -> {
            try {
                platform.join(platform.currentTask());
            } catch (Throwable x) {
                inBody.set(x);
            }
        });
        platform.join(t);
        assertTrue(inBody.get() instanceof IllegalStateException, String.valueOf(inBody.get()));
    }

    @Test
    void startThreadRejectsANullBody() {
        assertThrows(NullPointerException.class, () -> platform.startThread("nobody", null));
    }

    // ------------------------------------------------------------------ thread-start cost

    /** A cost that counts charges and refunds, and remembers who paid. */
    private static final class CountingCost implements ThreadStartCost {
        final AtomicInteger charges = new AtomicInteger();
        final AtomicInteger refunds = new AtomicInteger();
        final List<String> charged = new CopyOnWriteArrayList<>();
        final List<Task> payers = new CopyOnWriteArrayList<>();
        final Platform platform;

        CountingCost(Platform platform) {
            this.platform = platform;
        }

        @Override
        public Refund charge(String threadName) {
            charges.incrementAndGet();
            charged.add(threadName);
            payers.add(platform.currentTask());
            AtomicBoolean once = new AtomicBoolean();
            return () -> {
                if (!once.compareAndSet(false, true)) {
                    throw new AssertionError("refunded twice");
                }
                refunds.incrementAndGet();
            };
        }
    }

    @Test
    void theCostIsChargedToTheCreatorAndRefundedWhenTheThreadExits() {
        CountingCost cost = new CountingCost(platform);
        platform.setThreadStartCost(cost);
        Completion go = new Completion(platform, "go");
        Task t;
        try {
            t = platform.startThread("paid", go::waitFor);
            assertEquals(1, cost.charges.get());
            assertEquals(List.of("paid"), cost.charged);
            assertSame(platform.currentTask(), cost.payers.get(0), "the creating task pays");
            assertEquals(0, cost.refunds.get(), "no refund while the thread runs");
        } finally {
            go.complete();
        }
        platform.join(t);
        assertEquals(1, cost.refunds.get(), "the cost is refunded before joiners are woken");

        Task failing = platform.startThread("paid-and-failed", () -> {
            throw new IllegalStateException("expected");
        });
        platform.join(failing);
        assertEquals(2, cost.refunds.get(), "a failed thread's cost is refunded too");
        assertEquals(2, cost.charges.get());
    }

    @Test
    void aCostThatThrowsMakesStartThreadThrowAndStartsNothing() {
        Collection<Task> before = platform.tasks();
        AtomicBoolean ran = new AtomicBoolean();
        platform.setThreadStartCost(name -> {
            throw new ThreadStartException("cannot start thread " + name + ": injected");
        });
        ThreadStartException e = assertThrows(ThreadStartException.class,
                () -> platform.startThread("never", () -> ran.set(true)));
        assertTrue(e.getMessage().contains("never"), e.getMessage());
        assertFalse(names(platform.tasks()).contains("never"));
        assertEquals(names(before), names(platform.tasks()));
        assertFalse(ran.get());
    }

    @Test
    void aStartThatFailsAfterTheChargeRefundsIt() {
        CountingCost cost = new CountingCost(platform);
        platform.setThreadStartCost(cost);
        assertThrows(IllegalArgumentException.class, () -> platform.startThread(" ", () -> { }));
        assertEquals(1, cost.charges.get());
        assertEquals(1, cost.refunds.get(), "the charge for a thread that never started must be given back");
    }

    @Test
    void onlyOneCostMayBeInstalled() {
        CountingCost first = new CountingCost(platform);
        platform.setThreadStartCost(first);
        assertThrows(IllegalStateException.class, () -> platform.setThreadStartCost(new CountingCost(platform)));
        assertThrows(NullPointerException.class, () -> platform.setThreadStartCost(null));
        platform.setThreadStartCost(ThreadStartCost.FREE); // uninstalling is allowed
        CountingCost second = new CountingCost(platform);
        platform.setThreadStartCost(second);
        platform.join(platform.startThread("after-reinstall", () -> { }));
        assertEquals(0, first.charges.get());
        assertEquals(1, second.charges.get());
    }
}
