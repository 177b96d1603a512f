package dev.rescuer.core.testing;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartCost;

import java.util.Collection;
import java.util.function.BooleanSupplier;

/**
 * A {@link Platform} that forwards every abstract operation to a {@link RealPlatform} of its own, for
 * test platforms that change one or two answers (who counts as on a CPU, which wake-ups are held back,
 * which timer fires by hand) and keep the rest real. The interface's default methods are not
 * forwarded: a subclass that wants the real platform's answer for one overrides it.
 */
public abstract class ForwardingPlatform implements Platform {

    /** The platform everything not overridden goes to. */
    protected final RealPlatform real = new RealPlatform();

    @Override public Task currentTask() { return real.currentTask(); }
    @Override public Task startThread(String name, Runnable body) { return real.startThread(name, body); }
    @Override public void join(Task task) { real.join(task); }
    @Override public boolean await(Primitive on, BooleanSupplier condition, long deadlineNanos) {
        return real.await(on, condition, deadlineNanos);
    }
    @Override
    public boolean awaitInterruptible(Primitive on, BooleanSupplier condition, long deadlineNanos) throws InterruptedException {
        return real.awaitInterruptible(on, condition, deadlineNanos);
    }
    @Override public void interrupt(Task task) { real.interrupt(task); }
    @Override public boolean isInterrupted(Task task) { return real.isInterrupted(task); }
    @Override public boolean interrupted() { return real.interrupted(); }
    @Override public void wake(Task task) { real.wake(task); }
    @Override public void preemptionPoint() { real.preemptionPoint(); }
    @Override public void cpuRelax() { real.cpuRelax(); }
    @Override public long nanoTime() { return real.nanoTime(); }
    @Override public PlatformTimer newTimer(String name, Runnable callback) { return real.newTimer(name, callback); }
    @Override public void setThreadStartCost(ThreadStartCost cost) { real.setThreadStartCost(cost); }
    @Override public Collection<Task> tasks() { return real.tasks(); }
    @Override public void close() { real.close(); }
}
