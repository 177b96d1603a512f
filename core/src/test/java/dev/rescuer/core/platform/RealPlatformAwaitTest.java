package dev.rescuer.core.platform;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Platform#await} and {@link Platform#wake} on {@link RealPlatform}: the one blocking operation. */
class RealPlatformAwaitTest {

    private RealPlatform platform;
    private final AtomicLong seq = new AtomicLong();

    private static Primitive event(String name) {
        return new Primitive() {
            @Override public String name() { return name; }
            @Override public String kind() { return "test-event"; }
        };
    }

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
    }

    @AfterEach
    void tearDown() {
        platform.close();
    }

    @Test
    void aWakeBeforeTheSleepIsNotLost() {
        Primitive ev = event("early-wake");
        AtomicBoolean flag = new AtomicBoolean();
        AtomicInteger checks = new AtomicInteger();
        AtomicBoolean result = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "early-woken", seq);
        try {
            // The "waker" runs between the task's first check of the condition and its sleep: it makes
            // the condition true and wakes the task before the task has gone to sleep. With no deadline,
            // a lost wake-up would leave the task asleep for good and the operation would never finish.
            DrivenTask.Op op = d.submit(() -> result.set(platform.await(ev, () -> {
                if (checks.incrementAndGet() == 1) {
                    flag.set(true);
                    platform.wake(d.task());
                    return false;
                }
                return flag.get();
            }, Platform.NO_DEADLINE)));
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertEquals(2, checks.get(), "the condition is checked once before sleeping and once after the wake");
            assertEquals(Task.State.RUNNING, d.task().state());
            assertNull(d.task().waitingOn());
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void aWakeFromAnotherTaskWhileSleepingEndsTheWait() {
        Primitive ev = event("cross-wake");
        AtomicBoolean flag = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "waiter", seq);
        try {
            DrivenTask.Op op = d.runUntilBlocked(() -> result.set(platform.await(ev, flag::get, Platform.NO_DEADLINE)), ev);
            assertSame(ev, d.task().waitingOn());
            assertTrue(d.task().waitingSinceNanos() <= platform.nanoTime());
            flag.set(true);
            platform.wake(d.task());
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertNull(d.task().waitingOn());
            assertEquals(Task.State.RUNNING, d.task().state());
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void aWakeWithoutTheConditionIsSpuriousAndTheTaskSleepsAgain() {
        Primitive ev = event("recheck");
        AtomicBoolean flag = new AtomicBoolean();
        AtomicInteger checks = new AtomicInteger();
        AtomicBoolean result = new AtomicBoolean();
        AtomicBoolean flagWhenReturned = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "rechecker", seq);
        try {
            DrivenTask.Op op = d.runUntilBlocked(() -> {
                result.set(platform.await(ev, () -> {
                    checks.incrementAndGet();
                    return flag.get();
                }, Platform.NO_DEADLINE));
                flagWhenReturned.set(flag.get());
            }, ev);
            try {
                int before = checks.get();
                platform.wake(d.task());
                Poll.until("the woken task re-checked its condition", () -> checks.get() > before);
                d.awaitBlocked(ev, op); // it went back to sleep: the condition was still false
                assertFalse(op.isDone(), "await returned although its condition never became true");
            } finally {
                flag.set(true);
                platform.wake(d.task());
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertTrue(flagWhenReturned.get(), "await returned on the spurious wake-up, before its condition held");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void awaitWithADeadlineReturnsFalseWhenItPasses() {
        Task self = platform.currentTask();
        Primitive ev = event("never");
        AtomicInteger checks = new AtomicInteger();
        long deadline = platform.deadlineAfter(Duration.ofMillis(5));
        boolean result = platform.await(ev, () -> {
            checks.incrementAndGet();
            return false;
        }, deadline);
        assertFalse(result);
        assertTrue(platform.nanoTime() >= deadline, "await gave up before its deadline");
        assertTrue(checks.get() >= 2, "the condition is checked again when the deadline passes");
        assertEquals(Task.State.RUNNING, self.state());
        assertNull(self.waitingOn());
    }

    @Test
    void awaitWithAPastDeadlineReturnsTheConditionWithoutSleeping() {
        Primitive ev = event("past");
        long past = platform.nanoTime() - 1;
        assertFalse(platform.await(ev, () -> false, past));
        assertTrue(platform.await(ev, () -> true, past));
    }

    @Test
    void awaitWithATrueConditionReturnsAtOnceWithoutSleeping() {
        Task self = platform.currentTask();
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        self.setSleepListener(new SleepListener() {
            @Override public void sleeping(Task task) { events.add("sleeping"); }
            @Override public void running(Task task) { events.add("running"); }
        });
        assertTrue(platform.await(event("ready"), () -> true, Platform.NO_DEADLINE));
        assertEquals(List.of(), events, "a task whose condition holds never goes to sleep");
    }

    @Test
    void awaitInAtomicContextThrowsEvenIfTheConditionHolds() {
        Task self = platform.currentTask();
        Primitive ev = event("in-atomic");
        AtomicInteger checks = new AtomicInteger();
        self.enterAtomic();
        try {
            AtomicContextException e = assertThrows(AtomicContextException.class,
                    () -> platform.await(ev, () -> {
                        checks.incrementAndGet();
                        return true;
                    }, Platform.NO_DEADLINE));
            assertSame(ev, e.primitive());
            assertTrue(e.getMessage().startsWith("BUG: sleeping function called from invalid context"), e.getMessage());
            assertTrue(e.getMessage().contains(self.name()), e.getMessage());
            assertTrue(e.getMessage().contains("in-atomic"), e.getMessage());
        } finally {
            self.exitAtomic();
        }
        assertEquals(0, checks.get(), "the atomic check comes before the condition is evaluated");
        assertEquals(Task.State.RUNNING, self.state());
        assertNull(self.waitingOn());
        assertTrue(platform.await(ev, () -> true, Platform.NO_DEADLINE), "outside atomic context it may sleep again");
    }

    @Test
    void theSleepListenerHearsSleepingAndRunningOnTheSleepingTask() {
        Primitive ev = event("listened");
        AtomicBoolean flag = new AtomicBoolean();
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        DrivenTask d = new DrivenTask(platform, "listened", seq);
        try {
            d.run(() -> d.task().setSleepListener(new SleepListener() {
                @Override public void sleeping(Task task) {
                    events.add("sleeping " + task.name() + " on " + (task.waitingOn() == null ? null : task.waitingOn().name())
                            + (platform.currentTask() == task ? " (self)" : " (other)"));
                }
                @Override public void running(Task task) {
                    events.add("running " + task.name() + (platform.currentTask() == task ? " (self)" : " (other)"));
                }
            }));
            DrivenTask.Op op = d.runUntilBlocked(() -> platform.await(ev, flag::get, Platform.NO_DEADLINE), ev);
            try {
                // The task is marked blocked just before its listener hears about it.
                Poll.until("the listener heard the task go to sleep", () -> !events.isEmpty());
                assertEquals(List.of("sleeping listened on listened (self)"), List.copyOf(events));
                assertFalse(op.isDone());
            } finally {
                flag.set(true);
                platform.wake(d.task());
            }
            DrivenTask.awaitDone(op);
            assertEquals(List.of("sleeping listened on listened (self)", "running listened (self)"), List.copyOf(events));
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void deadlineAfterRejectsNegativeTimeoutsAndSaturates() {
        assertThrows(IllegalArgumentException.class, () -> platform.deadlineAfter(Duration.ofMillis(-1)));
        assertEquals(Platform.NO_DEADLINE, platform.deadlineAfter(Duration.ofSeconds(Long.MAX_VALUE)));
        long before = platform.nanoTime();
        long d = platform.deadlineAfter(Duration.ofSeconds(1));
        assertTrue(d >= before + 1_000_000_000L && d != Platform.NO_DEADLINE);
    }
}
