package dev.rescuer.core.platform;

import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RealPlatform}'s spin before the park, on real threads: a wake-up during the spin, in the
 * window between the spin's last look and the park, an interrupt and a deadline during the spin.
 * The spin's budget comes from a test {@link SpinBudget} so that each case is reached every time
 * (an endless spin, or a hook run exactly after the spin's last look).
 */
class RealPlatformSpinTest {

    private RealPlatform platform;
    private final AtomicLong seq = new AtomicLong();

    private static final Primitive EVENT = new Primitive() {
        @Override public String name() { return "spin-test"; }
        @Override public String kind() { return "test-event"; }
    };

    /** A budget that spins until something ends the spin, and records the spins begun and their outcomes. */
    private static final class EndlessSpin extends SpinBudget {
        final List<Boolean> outcomes = new CopyOnWriteArrayList<>();
        /** Spins begun: the park asks for the budget after it found no pending wake-up, right before it spins. */
        final AtomicInteger begun = new AtomicInteger();

        EndlessSpin() {
            super(0);
        }

        @Override
        long next() {
            begun.incrementAndGet();
            return Long.MAX_VALUE;
        }

        @Override
        void spun(boolean woken) {
            outcomes.add(woken);
        }
    }

    @AfterEach
    void tearDown() {
        if (platform != null) {
            platform.close();
        }
    }

    /** Waits, bounded, until {@code t} has entered its sleep (its record says BLOCKED). */
    private static void awaitBlocked(Task t) {
        Poll.until("task " + t + " entered its sleep", () -> t.state() == Task.State.BLOCKED);
    }

    /**
     * Waits, bounded, until {@code t} spins in its park. Its record says BLOCKED a little before the
     * park starts: a wake-up or an interrupt sent in between would be taken before any spin.
     */
    private static void awaitSpinning(Task t, EndlessSpin spin) {
        Poll.until("task " + t + " spins in its park", () -> t.state() == Task.State.BLOCKED && spin.begun.get() > 0);
    }

    @Test
    void aWakeDuringTheSpinEndsTheWaitAndCountsAsASuccessfulSpin() {
        EndlessSpin spin = new EndlessSpin();
        platform = new RealPlatform(() -> spin);
        AtomicBoolean flag = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "spinner", seq);
        try {
            DrivenTask.Op op = d.submit(() -> result.set(platform.await(EVENT, flag::get, Platform.NO_DEADLINE)));
            awaitSpinning(d.task(), spin);
            flag.set(true);
            platform.wake(d.task()); // the task never stops spinning by itself: only this ends the spin
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertEquals(List.of(true), spin.outcomes, "one spin, ended by the wake-up");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void aWaiterOnAPrimitiveThatDeclinesThePollParksWithoutSpinning() {
        EndlessSpin spin = new EndlessSpin();
        AtomicInteger asked = new AtomicInteger();
        SpinBudget counting = new SpinBudget(0) {
            @Override
            long next() {
                asked.incrementAndGet();
                return spin.next(); // were it asked, it would spin until woken, and record the spin
            }

            @Override
            void spun(boolean woken) {
                spin.spun(woken);
            }
        };
        platform = new RealPlatform(() -> counting);
        Primitive lock = new Primitive() {
            @Override public String name() { return "no-poll-test"; }
            @Override public String kind() { return "test-lock"; }
            @Override public boolean pollsBeforeSleep() { return false; }
        };
        AtomicBoolean flag = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "sleeper", seq);
        try {
            DrivenTask.Op op = d.submit(() -> result.set(platform.await(lock, flag::get, Platform.NO_DEADLINE)));
            awaitBlocked(d.task());
            flag.set(true);
            platform.wake(d.task());
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertEquals(0, asked.get(), "the budget was never asked: the waiter parked at once");
            assertEquals(List.of(), spin.outcomes);
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void aWakeAfterTheSpinsLastLookAndBeforeTheParkIsNotLost() {
        AtomicBoolean flag = new AtomicBoolean();
        AtomicInteger windows = new AtomicInteger();
        Task[] sleeper = new Task[1];
        // The hook runs on the sleeping task right after its spin's last look at the permit and
        // before it announces that it parks: another thread wakes it there, and the hook returns only
        // once that wake has returned. Had the wake-up been lost, the task would park for good.
        SpinBudget windowWaker = new SpinBudget(SpinBudget.MIN_NANOS) {
            @Override
            long next() {
                return SpinBudget.MIN_NANOS;
            }

            @Override
            void spun(boolean woken) {
                if (woken || windows.getAndIncrement() != 0) {
                    return;
                }
                flag.set(true);
                Thread waker = new Thread(() -> platform.wake(sleeper[0]), "window-waker");
                waker.start();
                try {
                    waker.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        };
        platform = new RealPlatform(() -> windowWaker);
        AtomicBoolean result = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "window", seq);
        sleeper[0] = d.task();
        try {
            DrivenTask.Op op = d.submit(() -> result.set(platform.await(EVENT, flag::get, Platform.NO_DEADLINE)));
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertEquals(1, windows.get(), "the wake-up landed in the window once, and the task did not sleep again");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void anInterruptDuringTheSpinEndsAnInterruptibleWait() {
        EndlessSpin spin = new EndlessSpin();
        platform = new RealPlatform(() -> spin);
        AtomicBoolean interrupted = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "interruptible-spinner", seq);
        try {
            DrivenTask.Op op = d.submit(() -> {
                try {
                    platform.awaitInterruptible(EVENT, () -> false, Platform.NO_DEADLINE);
                } catch (InterruptedException e) {
                    interrupted.set(true);
                }
            });
            awaitSpinning(d.task(), spin);
            platform.interrupt(d.task());
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(interrupted.get(), "the interrupt ended the spinning wait");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void anInterruptDuringTheSpinOfAnUninterruptibleWaitStaysPendingAndTheWaitGoesOn() {
        EndlessSpin spin = new EndlessSpin();
        platform = new RealPlatform(() -> spin);
        AtomicBoolean flag = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        DrivenTask d = new DrivenTask(platform, "uninterruptible-spinner", seq);
        try {
            DrivenTask.Op op = d.submit(() -> {
                result.set(platform.await(EVENT, flag::get, Platform.NO_DEADLINE));
                stillInterrupted.set(platform.interrupted());
            });
            awaitSpinning(d.task(), spin);
            platform.interrupt(d.task());
            // The spin stops on the interrupt and the task parks: its wait goes on.
            Poll.until("the interrupted spinner parked", () -> spin.outcomes.contains(false));
            assertFalse(op.isDone(), "an uninterruptible wait ended on an interrupt");
            flag.set(true);
            platform.wake(d.task());
            DrivenTask.awaitDone(op);
            DrivenTask.rethrow(op);
            assertTrue(result.get());
            assertTrue(stillInterrupted.get(), "the interrupt was kept for later");
        } finally {
            Bounded.closeUnlessBlocked(d);
        }
    }

    @Test
    void aDeadlineDuringTheSpinEndsTheWait() {
        EndlessSpin spin = new EndlessSpin();
        platform = new RealPlatform(() -> spin);
        Task self = platform.currentTask();
        long deadline = platform.deadlineAfter(Duration.ofMillis(2));
        assertFalse(platform.await(EVENT, () -> false, deadline), "the deadline passed with the condition false");
        assertTrue(platform.nanoTime() >= deadline, "the spin gave up before the deadline");
        assertEquals(Task.State.RUNNING, self.state());
    }

    @Test
    void aWakeBeforeTheSpinIsTakenWithoutSpinning() {
        EndlessSpin spin = new EndlessSpin();
        platform = new RealPlatform(() -> spin);
        Task self = platform.currentTask();
        AtomicInteger checks = new AtomicInteger();
        assertTrue(platform.await(EVENT, () -> {
            if (checks.incrementAndGet() == 1) {
                platform.wake(self); // a wake-up between the condition check and the park
                return false;
            }
            return true;
        }, Platform.NO_DEADLINE));
        assertEquals(List.of(), spin.outcomes, "the pending wake-up was consumed before any spin");
    }
}
