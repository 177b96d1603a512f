package dev.rescuer.core.platform;

import dev.rescuer.core.testing.DrivenTask;
import dev.rescuer.core.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RealPlatform#isOnCpu}: the kernel's {@code owner_on_cpu()} as far as the JVM can tell, which
 * a spinning mutex waiter asks about the holder.
 */
class RealPlatformOnCpuTest {

    private final RealPlatform platform = new RealPlatform();
    private final AtomicLong seq = new AtomicLong();

    @AfterEach
    void tearDown() {
        platform.close();
    }

    private static final Primitive EVENT = new Primitive() {
        @Override public String name() { return "on-cpu-event"; }
        @Override public String kind() { return "test-event"; }
    };

    @Test
    void theCallerIsOnCpu() {
        assertTrue(platform.isOnCpu(platform.currentTask()));
    }

    @Test
    void aTaskThatRunsIsOnCpuAndOneAsleepInThePlatformIsNot() {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean wake = new AtomicBoolean();
        AtomicReference<Thread> thread = new AtomicReference<>();
        Task t = platform.startThread("on-cpu", () -> {
            thread.set(Thread.currentThread());
            while (!stop.get()) {
                Thread.onSpinWait(); // runs, never blocks
            }
            platform.await(EVENT, wake::get, Platform.NO_DEADLINE);
        });
        Poll.until("the task runs", () -> thread.get() != null);
        assertTrue(platform.isOnCpu(t), "a task in a busy loop is running");
        stop.set(true);
        Poll.until("the task sleeps in the platform", () -> thread.get().getState() == Thread.State.WAITING);
        assertFalse(platform.isOnCpu(t), "a task asleep in await is not running");
        wake.set(true);
        platform.wake(t);
        platform.join(t);
        assertFalse(platform.isOnCpu(t), "an exited task is not running");
    }

    @Test
    void aTaskBlockedOutsideThePlatformIsNotOnCpu() throws InterruptedException {
        CountDownLatch latch = new CountDownLatch(1);
        DrivenTask d = new DrivenTask(platform, "latched", seq);
        AtomicReference<Thread> thread = new AtomicReference<>();
        try {
            DrivenTask.Op op = d.submit(() -> {
                thread.set(Thread.currentThread());
                try {
                    latch.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            Poll.until("the task waits on the latch", () -> thread.get() != null
                    && platform.isBlockedOutsidePlatform(d.task()));
            assertFalse(platform.isOnCpu(d.task()), "a task waiting on a JDK latch is not running");
            latch.countDown();
            DrivenTask.awaitDone(op);
        } finally {
            d.close();
        }
    }
}
