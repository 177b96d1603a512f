package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.rescuer.core.wq.WqTesting.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An item that waits for itself from its own run ({@code flush_work}, {@code cancel_work_sync},
 * {@code disable_work_sync}, {@code flush_delayed_work}) could never finish. The kernel deadlocks
 * there, after the cancel has taken a pending re-queue or the flush has fired the timer; here the
 * call throws, naming the call, and changes nothing: a pending re-queue still runs, the item is not
 * left disabled, an armed timer stays armed.
 */
class WaitFromOwnRunTest {

    /** Runs {@code call} once, from the item's first run, after {@code before}; records what it threw. */
    private static Work selfCaller(AtomicInteger runs, AtomicReference<Throwable> thrown, Runnable before, Work[] self,
            java.util.function.Consumer<Work> call) {
        self[0] = new Work("self", () -> {
            if (runs.incrementAndGet() == 1) {
                before.run();
                try {
                    call.accept(self[0]);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            }
        });
        return self[0];
    }

    private static void assertRefused(AtomicReference<Throwable> thrown, String op) {
        Throwable t = thrown.get();
        assertInstanceOf(IllegalStateException.class, t);
        assertTrue(t.getMessage().startsWith(op + " of work self from its own run in kworker/"), t.getMessage());
        assertTrue(t.getMessage().endsWith("can never finish"), t.getMessage());
    }

    @Test
    void cancelSyncFromItsOwnRunThrowsAndLeavesThePendingRequeueQueued() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("q", 0);
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Work[] self = new Work[1];
            Work w = selfCaller(runs, thrown, () -> assertTrue(wq.queue(self[0])), self, Work::cancelSync);
            assertTrue(wq.queue(w));
            Poll.until("the re-queue ran", () -> runs.get() == 2);
            w.flush();
            assertRefused(thrown, "cancel_work_sync");
            assertFalse(w.isDisabled());
            wq.destroy();
        }
    }

    @Test
    void disableSyncFromItsOwnRunThrowsAndLeavesTheItemEnabled() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("q", 0);
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Work[] self = new Work[1];
            Work w = selfCaller(runs, thrown, () -> { }, self, Work::disableSync);
            assertTrue(wq.queue(w));
            Poll.until("the call returned", () -> thrown.get() != null);
            w.flush();
            assertRefused(thrown, "disable_work_sync");
            assertFalse(w.isDisabled());
            assertTrue(wq.queue(w), "queueable again");
            Poll.until("it ran again", () -> runs.get() == 2);
            wq.destroy();
        }
    }

    @Test
    void flushFromItsOwnRunThrowsAndLeavesThePendingRequeueQueued() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("q", 0);
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Work[] self = new Work[1];
            Work w = selfCaller(runs, thrown, () -> assertTrue(wq.queue(self[0])), self, Work::flush);
            assertTrue(wq.queue(w));
            Poll.until("the re-queue ran", () -> runs.get() == 2);
            w.flush();
            assertRefused(thrown, "flush_work");
            wq.destroy();
        }
    }

    @Test
    void flushDelayedFromItsOwnRunThrowsAndLeavesTheTimerArmed() {
        try (RescuerSystem sys = system(2)) {
            WorkQueue wq = sys.workqueues().create("q", 0);
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean armedAfter = new AtomicBoolean();
            AtomicBoolean ended = new AtomicBoolean();
            DelayedWork[] self = new DelayedWork[1];
            self[0] = new DelayedWork("self", () -> {
                if (runs.incrementAndGet() == 1) {
                    assertTrue(wq.queueDelayed(self[0], Duration.ofHours(1)));
                    try {
                        self[0].flush();
                    } catch (Throwable t) {
                        thrown.set(t);
                    }
                    armedAfter.set(self[0].isTimerPending());
                    ended.set(true);
                }
            });
            assertTrue(wq.queueDelayed(self[0], Duration.ZERO));
            Poll.until("the first run ended", ended::get);
            assertRefused(thrown, "flush_delayed_work");
            assertTrue(armedAfter.get(), "the timer is still armed after the refusal");
            assertTrue(self[0].isTimerPending());
            assertEquals(1, runs.get(), "the refused flush did not fire the timer");
            assertTrue(self[0].cancelSync(), "the armed timer is cancelled");
            wq.destroy();
        }
    }
}
