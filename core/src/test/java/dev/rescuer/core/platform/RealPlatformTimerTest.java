package dev.rescuer.core.platform;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.DrivenTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PlatformTimer} on {@link RealPlatform}. Timing is never asserted. Where a test needs the
 * timer context to be unable to fire something yet, it occupies it with a "blocker" callback that spins
 * on a flag the test controls; where it needs to know a callback did <em>not</em> run, it waits for a
 * later "sentinel" timer, since the single timer context runs expired callbacks in deadline order.
 */
class RealPlatformTimerTest {

    private RealPlatform platform;
    private final AtomicLong seq = new AtomicLong();
    private Blocker blocker;

    /** Holds the timer context busy in a callback until released. */
    private final class Blocker {
        volatile boolean entered;
        volatile boolean released;
        final PlatformTimer timer = platform.newTimer("blocker", () -> {
            entered = true;
            while (!released) {
                Thread.onSpinWait();
            }
        });

        void engage() {
            entered = false;
            released = false;
            timer.arm(Duration.ZERO);
            Poll.until("the blocker callback runs", () -> entered);
        }

        void release() {
            released = true;
        }
    }

    @BeforeEach
    void setUp() {
        platform = new RealPlatform();
        blocker = new Blocker();
    }

    @AfterEach
    void tearDown() {
        blocker.release();
        platform.close();
    }

    /** Arms a fresh timer {@code delay} from now and waits (bounded) until it has fired. */
    private void sentinel(Duration delay) {
        Completion fired = new Completion(platform, "sentinel-fired");
        platform.newTimer("sentinel", fired::complete).arm(delay);
        assertTrue(fired.waitFor(DrivenTask.PATIENCE), "the sentinel timer never fired");
    }

    @Test
    void armFiresTheCallbackOnceOnTheTimerContextInAtomicContext() {
        Completion fired = new Completion(platform, "fired");
        Completion forbidden = new Completion(platform, "forbidden");
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<Task> ranOn = new AtomicReference<>();
        AtomicBoolean wasAtomic = new AtomicBoolean();
        AtomicReference<Throwable> sleepAttempt = new AtomicReference<>();
        PlatformTimer timer = platform.newTimer("t", () -> {
            calls.incrementAndGet();
            Task self = platform.currentTask();
            ranOn.set(self);
            wasAtomic.set(self.inAtomic());
            try {
                forbidden.waitFor();
            } catch (Throwable e) {
                sleepAttempt.set(e);
            }
            fired.complete();
        });
        assertEquals("t", timer.name());
        assertFalse(timer.isPending());
        assertFalse(timer.arm(Duration.ofMillis(1)), "a fresh timer was not pending");
        assertTrue(fired.waitFor(DrivenTask.PATIENCE), "the timer never fired");
        sentinel(Duration.ofMillis(5));

        assertEquals(1, calls.get(), "a one-shot timer fires once");
        assertFalse(timer.isPending());
        Task t = ranOn.get();
        assertNotNull(t);
        assertNotSame(platform.currentTask(), t, "callbacks run on the timer context, not the arming task");
        assertTrue(t.name().startsWith("timer/"), t.name());
        assertTrue(wasAtomic.get(), "timer callbacks run in atomic context");
        assertTrue(sleepAttempt.get() instanceof AtomicContextException, String.valueOf(sleepAttempt.get()));
        assertSame(forbidden, ((AtomicContextException) sleepAttempt.get()).primitive());
        assertFalse(forbidden.isDone());
        assertEquals(List.of(), forbidden.waitingTasks(), "the refused wait left the completion untouched");
        assertFalse(timer.arm(Duration.ofMillis(1)), "a timer that has fired is no longer pending");
        assertTrue(fired.waitFor(DrivenTask.PATIENCE), "a fired timer can be armed again");
    }

    @Test
    void reArmingReplacesTheEarlierArming() {
        AtomicInteger calls = new AtomicInteger();
        PlatformTimer timer = platform.newTimer("rearmed", calls::incrementAndGet);
        blocker.engage();
        try {
            assertFalse(timer.arm(Duration.ofMillis(1)));
            assertTrue(timer.arm(Duration.ofMillis(2)), "arm returns whether the timer was pending");
            assertTrue(timer.isPending());
        } finally {
            blocker.release();
        }
        sentinel(Duration.ofMillis(20));
        assertEquals(1, calls.get(), "two armings of one timer fire it once");
        assertFalse(timer.isPending());
    }

    @Test
    void reArmingLaterPostponesTheCallback() {
        AtomicInteger calls = new AtomicInteger();
        PlatformTimer timer = platform.newTimer("postponed", calls::incrementAndGet);
        blocker.engage();
        try {
            assertFalse(timer.arm(Duration.ofMillis(1)));
            assertTrue(timer.arm(Duration.ofHours(1)));
        } finally {
            blocker.release();
        }
        sentinel(Duration.ofMillis(10));
        assertEquals(0, calls.get(), "the replaced 1 ms arming must not fire");
        assertTrue(timer.isPending());
        assertTrue(timer.cancel());
    }

    @Test
    void cancelBeforeExpiryPreventsTheCallback() {
        AtomicInteger calls = new AtomicInteger();
        PlatformTimer timer = platform.newTimer("cancelled", calls::incrementAndGet);
        blocker.engage();
        try {
            timer.arm(Duration.ofMillis(1));
            assertTrue(timer.cancel(), "cancel of a pending timer reports that it prevented a callback");
            assertFalse(timer.isPending());
            assertFalse(timer.cancel(), "a second cancel finds nothing pending");
        } finally {
            blocker.release();
        }
        sentinel(Duration.ofMillis(10));
        assertEquals(0, calls.get());
    }

    @Test
    void expiredTimersFireInDeadlineOrder() {
        List<String> order = new CopyOnWriteArrayList<>();
        PlatformTimer late = platform.newTimer("late", () -> order.add("late"));
        PlatformTimer early = platform.newTimer("early", () -> order.add("early"));
        blocker.engage();
        try {
            late.arm(Duration.ofMillis(3));
            early.arm(Duration.ofMillis(1));
        } finally {
            blocker.release();
        }
        sentinel(Duration.ofMillis(20));
        assertEquals(List.of("early", "late"), order);
    }

    @Test
    void cancelSyncWaitsForARunningCallback() {
        AtomicBoolean entered = new AtomicBoolean();
        AtomicBoolean release = new AtomicBoolean();
        AtomicBoolean finished = new AtomicBoolean();
        PlatformTimer timer = platform.newTimer("slow", () -> {
            entered.set(true);
            while (!release.get()) {
                Thread.onSpinWait();
            }
            finished.set(true);
        });
        AtomicReference<Boolean> result = new AtomicReference<>();
        AtomicBoolean finishedSeenOnReturn = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "canceller", seq);
        try {
            DrivenTask.Op op;
            try {
                timer.arm(Duration.ofMillis(1));
                Poll.until("the callback is running", entered::get);
                op = d.submit(() -> {
                    result.set(timer.cancelSync());
                    finishedSeenOnReturn.set(finished.get());
                });
                Bounded.untilBlocked(d.task(), Bounded.primitive("timer callback", "slow"), "the running callback of timer slow", op);
                assertFalse(op.isDone(), "cancelSync returned while the callback was still running");
            } finally {
                release.set(true);
            }
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(finishedSeenOnReturn.get(), "cancelSync returned before the callback finished");
            assertEquals(Boolean.FALSE, result.get(), "the timer had already fired, so it was not pending");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void cancelSyncOfAPendingTimerCancelsIt() {
        AtomicInteger calls = new AtomicInteger();
        PlatformTimer timer = platform.newTimer("pending", calls::incrementAndGet);
        blocker.engage();
        try {
            timer.arm(Duration.ofMillis(1));
            assertTrue(timer.cancelSync());
            assertFalse(timer.isPending());
        } finally {
            blocker.release();
        }
        sentinel(Duration.ofMillis(10));
        assertEquals(0, calls.get());
        assertFalse(timer.cancelSync(), "nothing pending, nothing running");
    }

    @Test
    void cancelSyncFromTheTimersOwnCallbackThrows() {
        AtomicReference<PlatformTimer> self = new AtomicReference<>();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Completion fired = new Completion(platform, "fired");
        self.set(platform.newTimer("selfcancel", () -> {
            try {
                self.get().cancelSync();
            } catch (Throwable e) {
                thrown.set(e);
            }
            fired.complete();
        }));
        self.get().arm(Duration.ofMillis(1));
        assertTrue(fired.waitFor(DrivenTask.PATIENCE));
        assertTrue(thrown.get() instanceof IllegalStateException, String.valueOf(thrown.get()));
    }

    @Test
    void aCallbackMayReArmItsOwnTimer() {
        AtomicInteger calls = new AtomicInteger();
        Completion third = new Completion(platform, "third");
        AtomicReference<PlatformTimer> self = new AtomicReference<>();
        self.set(platform.newTimer("periodic", () -> {
            if (calls.incrementAndGet() < 3) {
                self.get().arm(Duration.ofMillis(1));
            } else {
                third.complete();
            }
        }));
        self.get().arm(Duration.ofMillis(1));
        assertTrue(third.waitFor(DrivenTask.PATIENCE));
        sentinel(Duration.ofMillis(10));
        assertEquals(3, calls.get());
    }

    @Test
    void aThrowingCallbackDoesNotStopTheTimerContext() {
        platform.newTimer("throws", () -> {
            throw new IllegalStateException("expected by the test");
        }).arm(Duration.ofMillis(1));
        sentinel(Duration.ofMillis(5));
    }

    @Test
    void negativeDelayIsRejected() {
        PlatformTimer timer = platform.newTimer("neg", () -> { });
        assertThrows(IllegalArgumentException.class, () -> timer.arm(Duration.ofMillis(-1)));
        assertFalse(timer.isPending());
        assertThrows(NullPointerException.class, () -> platform.newTimer(null, () -> { }));
        assertThrows(NullPointerException.class, () -> platform.newTimer("x", null));
    }

    @Test
    void closeStopsTheTimerContext() {
        AtomicReference<Task> timerTask = new AtomicReference<>();
        Completion fired = new Completion(platform, "fired");
        PlatformTimer timer = platform.newTimer("before-close", () -> {
            timerTask.set(platform.currentTask());
            fired.complete();
        });
        timer.arm(Duration.ofMillis(1));
        assertTrue(fired.waitFor(DrivenTask.PATIENCE));
        assertTrue(platform.tasks().contains(timerTask.get()));
        platform.close();
        assertTrue(timerTask.get().hasExited(), "close waits for the timer context to exit");
        assertFalse(platform.tasks().contains(timerTask.get()));
        assertThrows(IllegalStateException.class, () -> timer.arm(Duration.ofMillis(1)));
    }
}
