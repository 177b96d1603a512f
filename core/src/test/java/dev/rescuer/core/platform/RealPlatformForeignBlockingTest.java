package dev.rescuer.core.platform;

import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RealPlatform#isBlockedOutsidePlatform} and {@link RealPlatform#stackOf}: a task blocked in
 * JDK code is seen as such, with a stack naming where; a task sleeping in the platform's own waits
 * never is.
 */
class RealPlatformForeignBlockingTest {

    private final RealPlatform platform = new RealPlatform();

    @AfterEach
    void tearDown() {
        platform.close();
    }

    private static boolean hasFrame(StackTraceElement[] stack, String className, String method) {
        return Arrays.stream(stack).anyMatch(e -> e.getClassName().equals(className) && e.getMethodName().equals(method));
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aTaskWaitingOnACountDownLatchIsBlockedOutsideThePlatform() {
        CountDownLatch latch = new CountDownLatch(1);
        Task t = platform.startThread("latched", () -> awaitLatch(latch));
        try {
            Poll.until("the task waits in the latch", () -> platform.isBlockedOutsidePlatform(t));
            StackTraceElement[] stack = platform.stackOf(t);
            assertTrue(hasFrame(stack, CountDownLatch.class.getName(), "await"), Arrays.toString(stack));
            long switches = platform.switchCount(t);
            assertTrue(switches >= 1, "the JVM counted the wait: " + switches);
            assertTrue(platform.isBlockedOutsidePlatform(t));
            assertEquals(switches, platform.switchCount(t), "still the same wait");
            assertEquals(Task.State.RUNNING, t.state(), "the platform itself does not see it sleep");
        } finally {
            latch.countDown();
            platform.join(t);
        }
        assertFalse(platform.isBlockedOutsidePlatform(t), "an exited task is blocked nowhere");
    }

    /** The frame a task blocked on {@code monitor} stands in. */
    static void enterMonitor(Object monitor) {
        synchronized (monitor) {
            monitor.hashCode();
        }
    }

    @Test
    void aTaskBlockedEnteringAMonitorIsBlockedOutsideThePlatform() {
        Object monitor = new Object();
        Task t;
        synchronized (monitor) {
            t = platform.startThread("monitor", () -> enterMonitor(monitor));
            Poll.until("the task blocks on the monitor", () -> platform.isBlockedOutsidePlatform(t));
            StackTraceElement[] stack = platform.stackOf(t);
            assertEquals("enterMonitor", stack[0].getMethodName(), Arrays.toString(stack));
            assertEquals(RealPlatformForeignBlockingTest.class.getName(), stack[0].getClassName());
        }
        platform.join(t);
    }

    @Test
    void aTaskSleepingInPlatformAwaitIsNeverBlockedOutsideIt() {
        Completion done = new Completion(platform, "done");
        Task t = platform.startThread("sleeper", done::waitFor);
        try {
            Poll.until("the task sleeps in the platform", () -> t.state() == Task.State.BLOCKED);
            Poll.until("its thread has parked", () -> hasFrame(platform.stackOf(t), "jdk.internal.misc.Unsafe", "park"));
            for (int i = 0; i < 10_000; i++) {
                assertFalse(platform.isBlockedOutsidePlatform(t), "check " + i);
            }
        } finally {
            done.complete();
            platform.join(t);
        }
    }

    @Test
    void theTimerContextWaitingForItsNextTimerIsNotBlockedOutsideThePlatform() {
        PlatformTimer timer = platform.newTimer("far", () -> { });
        timer.arm(Duration.ofHours(1)); // starts the timer context, which now waits for it
        Task ctx = platform.tasks().stream().filter(x -> x.name().startsWith("timer/")).findFirst().orElseThrow();
        Poll.until("the timer context waits", () -> hasFrame(platform.stackOf(ctx), "jdk.internal.misc.Unsafe", "park"));
        for (int i = 0; i < 10_000; i++) {
            assertFalse(platform.isBlockedOutsidePlatform(ctx), "check " + i);
        }
        timer.cancel();
    }
}
