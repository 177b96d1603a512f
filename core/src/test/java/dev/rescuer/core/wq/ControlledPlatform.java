package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartCost;

import java.util.Collection;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A {@link RealPlatform} whose answer to {@link Platform#isBlockedOutsidePlatform} the test decides,
 * so that concurrency management's use of it can be tested without depending on how a real platform
 * reads JVM thread states.
 */
final class ControlledPlatform implements Platform {

    private final RealPlatform real = new RealPlatform();
    private volatile Predicate<Task> blockedOutside = t -> false;

    /** From now on, a task counts as blocked outside the platform when {@code p} says so. */
    void blockedOutsideWhen(Predicate<Task> p) {
        blockedOutside = p;
    }

    @Override public boolean isBlockedOutsidePlatform(Task task) { return blockedOutside.test(task); }
    @Override public Task currentTask() { return real.currentTask(); }
    @Override public Task startThread(String name, Runnable body) { return real.startThread(name, body); }
    @Override public void join(Task task) { real.join(task); }
    @Override public boolean await(Primitive on, BooleanSupplier condition, long deadlineNanos) {
        return real.await(on, condition, deadlineNanos);
    }
    @Override public void wake(Task task) { real.wake(task); }
    @Override public void preemptionPoint() { real.preemptionPoint(); }
    @Override public void cpuRelax() { real.cpuRelax(); }
    @Override public long nanoTime() { return real.nanoTime(); }
    @Override public PlatformTimer newTimer(String name, Runnable callback) { return real.newTimer(name, callback); }
    @Override public void setThreadStartCost(ThreadStartCost cost) { real.setThreadStartCost(cost); }
    @Override public Collection<Task> tasks() { return real.tasks(); }
    @Override public void close() { real.close(); }
}
