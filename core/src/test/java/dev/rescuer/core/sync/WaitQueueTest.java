package dev.rescuer.core.sync;

import dev.rescuer.core.testing.Poll;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.SyncTesting.Fixture;
import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.DrivenTask.Op;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.rescuer.core.sync.SyncTesting.assertBlockedOn;
import static dev.rescuer.core.sync.SyncTesting.assertNotWaiting;
import static dev.rescuer.core.sync.SyncTesting.awaitOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link WaitQueue}: wait_event/wake_up, shared and exclusive waiters, timeouts, no lost wake-ups. */
class WaitQueueTest {

    private static final Duration SHORT = Duration.ofMillis(20);

    private final Fixture f = new Fixture();
    private final WaitQueue wq = new WaitQueue(f.platform, "&s->in_progress_wait");

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void waitEventReturnsAtOnceWhenTheConditionAlreadyHolds() {
        DrivenTask a = f.task("A");
        AtomicInteger sleeps = new AtomicInteger();
        a.run(() -> a.task().setSleepListener(new CountingListener(sleeps, new AtomicInteger())));
        a.run(() -> wq.waitEvent(() -> true));
        assertEquals(0, sleeps.get(), "a true condition must not put the task to sleep");
        assertFalse(wq.hasWaiters());
    }

    @Test
    void waitEventSleepsUntilTheConditionIsTrueAndAWakeUpArrives() {
        DrivenTask a = f.task("A");
        AtomicBoolean cond = new AtomicBoolean();
        AtomicInteger checks = new AtomicInteger();
        AtomicBoolean condAtReturn = new AtomicBoolean();
        Op op = a.runUntilBlocked(() -> {
            wq.waitEvent(() -> {
                checks.incrementAndGet();
                return cond.get();
            });
            condAtReturn.set(cond.get());
        }, wq);
        assertTrue(wq.hasWaiters());
        assertEquals(List.of(a.task()), wq.waitingTasks());

        // A wake-up with the condition still false: the waiter re-checks and sleeps on.
        int before = checks.get();
        wq.wakeUp();
        Poll.until("the waiter re-checks its condition", () -> checks.get() > before);
        a.awaitBlocked(wq, op);
        assertBlockedOn(a, wq, op);

        cond.set(true);
        wq.wakeUp();
        awaitOk(op);
        assertTrue(condAtReturn.get(), "wait_event returned while its condition was false");
        assertFalse(wq.hasWaiters(), "the waiter must leave the queue when its wait ends");
        assertEquals(List.of(), wq.waitingTasks());
        assertNotWaiting(a);
    }

    @Test
    void wakeUpAllWakesSharedAndExclusiveWaiters() {
        AtomicBoolean cond = new AtomicBoolean();
        DrivenTask s = f.task("S");
        DrivenTask e1 = f.task("E1");
        DrivenTask e2 = f.task("E2");
        Op sOp = s.runUntilBlocked(() -> wq.waitEvent(cond::get), wq);
        Op e1Op = e1.runUntilBlocked(() -> wq.waitEventExclusive(cond::get), wq);
        Op e2Op = e2.runUntilBlocked(() -> wq.waitEventExclusive(cond::get), wq);
        cond.set(true);
        wq.wakeUpAll();
        awaitOk(sOp);
        awaitOk(e1Op);
        awaitOk(e2Op);
        assertFalse(wq.hasWaiters());
    }

    @Test
    void wakeUpWakesEverySharedWaiterButOnlyTheFirstExclusiveOne() {
        AtomicBoolean cond = new AtomicBoolean();
        DrivenTask e1 = f.task("E1");
        DrivenTask s1 = f.task("S1");
        DrivenTask e2 = f.task("E2");
        DrivenTask s2 = f.task("S2");
        Op e1Op = e1.runUntilBlocked(() -> wq.waitEventExclusive(cond::get), wq);
        Op s1Op = s1.runUntilBlocked(() -> wq.waitEvent(cond::get), wq);
        Op e2Op = e2.runUntilBlocked(() -> wq.waitEventExclusive(cond::get), wq);
        Op s2Op = s2.runUntilBlocked(() -> wq.waitEvent(cond::get), wq);

        cond.set(true);
        wq.wakeUp();
        awaitOk(e1Op);
        awaitOk(s1Op);
        awaitOk(s2Op);
        // E2's condition is true too, but nobody woke it: wake_up wakes one exclusive waiter.
        assertBlockedOn(e2, wq, e2Op);
        assertEquals(List.of(e2.task()), wq.waitingTasks());

        wq.wakeUp();
        awaitOk(e2Op);
        assertFalse(wq.hasWaiters());
    }

    @Test
    void anExclusiveWaiterWokenWithAFalseConditionSleepsAgainWithoutPassingTheWakeUpOn() {
        AtomicBoolean c1 = new AtomicBoolean();
        AtomicBoolean c2 = new AtomicBoolean();
        AtomicInteger e1Checks = new AtomicInteger();
        DrivenTask e1 = f.task("E1");
        DrivenTask e2 = f.task("E2");
        AtomicBoolean c1AtReturn = new AtomicBoolean();
        Op e1Op = e1.runUntilBlocked(() -> {
            wq.waitEventExclusive(() -> {
                e1Checks.incrementAndGet();
                return c1.get();
            });
            c1AtReturn.set(c1.get());
        }, wq);
        Op e2Op = e2.runUntilBlocked(() -> wq.waitEventExclusive(c2::get), wq);
        int before = e1Checks.get();

        c2.set(true);
        wq.wakeUp();
        Poll.until("E1 re-checks its condition after the wake-up", () -> e1Checks.get() > before);
        e1.awaitBlocked(wq, e1Op);
        assertBlockedOn(e2, wq, e2Op);

        wq.wakeUpAll();
        awaitOk(e2Op);
        e1.awaitBlocked(wq, e1Op);
        assertBlockedOn(e1, wq, e1Op);
        c1.set(true);
        wq.wakeUp();
        awaitOk(e1Op);
        assertTrue(c1AtReturn.get(), "E1 returned while its condition was false");
    }

    /**
     * Two quick wake-ups must reach two exclusive waiters, even when the first one woken has not yet
     * got round to leaving the queue when the second wake-up comes (here: it is held inside its
     * condition check). Otherwise the second waiter sleeps on with its condition true: a lost wake-up.
     */
    @Test
    void twoWakeUpsReachTwoExclusiveWaitersEvenIfTheFirstIsSlowToRun() {
        AtomicBoolean go1 = new AtomicBoolean();
        AtomicBoolean inside1 = new AtomicBoolean();
        AtomicBoolean release1 = new AtomicBoolean();
        AtomicBoolean go2 = new AtomicBoolean();
        DrivenTask e1 = f.task("E1");
        DrivenTask e2 = f.task("E2");
        Op e1Op = e1.runUntilBlocked(() -> wq.waitEventExclusive(() -> {
            if (!go1.get()) {
                return false;
            }
            inside1.set(true);
            while (!release1.get()) { // test-only: keeps E1 between its wake-up and its exit
                Thread.onSpinWait();
            }
            return true;
        }), wq);
        Op e2Op = e2.runUntilBlocked(() -> wq.waitEventExclusive(go2::get), wq);

        go1.set(true);
        wq.wakeUp();
        Poll.until("E1 runs its condition after the first wake-up", inside1::get);
        go2.set(true);
        wq.wakeUp();
        release1.set(true);
        awaitOk(e1Op);
        awaitOk(e2Op);
        assertFalse(wq.hasWaiters());
    }

    @Test
    void waitEventTimeoutReturnsFalseWhenTheConditionStaysFalse() {
        DrivenTask a = f.task("A");
        AtomicBoolean result = new AtomicBoolean(true);
        a.run(() -> result.set(wq.waitEventTimeout(() -> false, SHORT)));
        assertFalse(result.get());
        assertFalse(wq.hasWaiters(), "a timed-out waiter must leave the queue");
        assertNotWaiting(a);
    }

    @Test
    void waitEventTimeoutReturnsTrueWhenWokenWithTheConditionTrue() {
        DrivenTask a = f.task("A");
        AtomicBoolean cond = new AtomicBoolean();
        AtomicBoolean result = new AtomicBoolean();
        Op op = a.runUntilBlocked(() -> result.set(wq.waitEventTimeout(cond::get, Duration.ofMinutes(5))), wq);
        cond.set(true);
        wq.wakeUp();
        awaitOk(op);
        assertTrue(result.get());
    }

    @Test
    void waitEventUntilAPastDeadlineReportsTheCondition() {
        DrivenTask a = f.task("A");
        AtomicBoolean result = new AtomicBoolean(true);
        a.run(() -> result.set(wq.waitEventUntil(() -> false, f.platform.nanoTime())));
        assertFalse(result.get());
        a.run(() -> result.set(wq.waitEventUntil(() -> true, f.platform.nanoTime())));
        assertTrue(result.get());
        assertFalse(wq.hasWaiters());
    }

    @Test
    void noWakeUpIsLostWhenTheWakerRacesTheWaiter() {
        // Many rounds of the classic race: the waker sets the flag and wakes while the waiter may be
        // anywhere between its first check and its sleep. A lost wake-up leaves the waiter asleep and
        // fails the bounded wait.
        DrivenTask waiter = f.task("waiter");
        for (int round = 0; round < 300; round++) {
            AtomicBoolean flag = new AtomicBoolean();
            Op op = waiter.submit(() -> wq.waitEvent(flag::get));
            if ((round & 1) == 0) {
                Thread.yield();
            }
            flag.set(true);
            wq.wakeUp();
            awaitOk(op);
        }
        assertFalse(wq.hasWaiters());
    }

    @Test
    void wakingAnEmptyQueueIsHarmless() {
        wq.wakeUp();
        wq.wakeUpAll();
        assertFalse(wq.hasWaiters());
        DrivenTask a = f.task("A");
        AtomicBoolean cond = new AtomicBoolean();
        Op op = a.runUntilBlocked(() -> wq.waitEvent(cond::get), wq);
        assertBlockedOn(a, wq, op); // earlier wake-ups were not stored up for later waiters
        cond.set(true);
        wq.wakeUp();
        awaitOk(op);
    }

    @Test
    void onlyAnIdleWaitQueueMarksItsSleepersAsIdle() {
        assertFalse(wq.isIdleWait(), "an ordinary wait is reported by the hung-task detector");
        WaitQueue idle = WaitQueue.idle(f.platform, "kswapd_wait", "kswapd_wait");
        assertTrue(idle.isIdleWait());
        DrivenTask a = f.task("A");
        AtomicBoolean cond = new AtomicBoolean();
        Op op = a.runUntilBlocked(() -> idle.waitEvent(cond::get), idle);
        assertTrue(a.task().waitingOn().isIdleWait());
        cond.set(true);
        idle.wakeUp();
        awaitOk(op);
    }

    /** Counts sleeping/running notifications. */
    static final class CountingListener implements dev.rescuer.core.platform.SleepListener {
        private final AtomicInteger sleeping;
        private final AtomicInteger running;

        CountingListener(AtomicInteger sleeping, AtomicInteger running) {
            this.sleeping = sleeping;
            this.running = running;
        }

        @Override
        public void sleeping(Task task) {
            sleeping.incrementAndGet();
        }

        @Override
        public void running(Task task) {
            running.incrementAndGet();
        }
    }
}
