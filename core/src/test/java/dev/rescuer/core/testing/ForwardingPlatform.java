package dev.rescuer.core.testing;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.platform.ThreadStartCost;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A {@link Platform} that forwards every abstract operation to a {@link RealPlatform} of its own, for
 * test platforms that change one or two answers (who counts as on a CPU, which wake-ups are held back,
 * which timer fires by hand) and keep the rest real. The interface's default methods are not
 * forwarded: a subclass that wants the real platform's answer for one overrides it.
 *
 * <p>Every platform made from it counts the wake-ups asked for, per task, and can hold back those of
 * chosen tasks ({@link #holdWakesOf}) until {@link #releaseWakes()}, so that a test can look at the
 * runtime, or let another task act, while a woken task is still "on its way".
 */
public abstract class ForwardingPlatform implements Platform {

    /** The platform everything not overridden goes to. */
    protected final RealPlatform real = new RealPlatform();
    /** Whose wake-ups are held back; guarded by {@code this}. */
    private Predicate<Task> holdWakesOf = t -> false;
    /** The wake-ups held back, in the order asked for; guarded by {@code this}. */
    private final List<Task> heldWakes = new ArrayList<>();
    /** Wake-ups asked for per task (held or delivered) since the platform was made. */
    private final ConcurrentHashMap<Task, AtomicInteger> wakeCounts = new ConcurrentHashMap<>();

    /** From now on holds back the wake-ups of the tasks {@code p} accepts, until {@link #releaseWakes()}. */
    public final synchronized void holdWakesOf(Predicate<Task> p) {
        holdWakesOf = p;
    }

    /** Stops holding wake-ups back and delivers those held, in the order they were asked for. */
    public final void releaseWakes() {
        List<Task> deliver;
        synchronized (this) {
            holdWakesOf = t -> false;
            deliver = new ArrayList<>(heldWakes);
            heldWakes.clear();
        }
        deliver.forEach(real::wake);
    }

    /** How many wake-ups of {@code task} were asked for (held or delivered) since the platform was made. */
    public final int wakeCount(Task task) {
        AtomicInteger n = wakeCounts.get(task);
        return n == null ? 0 : n.get();
    }

    /** Counts the wake-up, then holds it back if {@link #holdWakesOf} says so, else delivers it. */
    @Override
    public void wake(Task task) {
        wakeCounts.computeIfAbsent(task, t -> new AtomicInteger()).incrementAndGet();
        synchronized (this) {
            if (holdWakesOf.test(task)) {
                heldWakes.add(task);
                return;
            }
        }
        real.wake(task);
    }

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
    @Override public void preemptionPoint() { real.preemptionPoint(); }
    @Override public void cpuRelax() { real.cpuRelax(); }
    @Override public long nanoTime() { return real.nanoTime(); }
    @Override public PlatformTimer newTimer(String name, Runnable callback) { return real.newTimer(name, callback); }
    @Override public void setThreadStartCost(ThreadStartCost cost) { real.setThreadStartCost(cost); }
    @Override public Collection<Task> tasks() { return real.tasks(); }
    @Override public void close() { real.close(); }
}
