package dev.rescuer.core.sync;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.testing.ForwardingPlatform;
import dev.rescuer.core.platform.Task;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A {@link RealPlatform} for the tests of a spinning waiter: the test decides {@link #isOnCpu}, sees
 * every {@link #cpuRelax()} (on the spinning task's own thread, where it may hold the spinner), and
 * can hold back and count the wake-ups of a chosen task, so that a barger wins against a woken waiter
 * on every run instead of by luck.
 */
final class SpinProbePlatform extends ForwardingPlatform {

    private volatile Predicate<Task> onCpu = real::isOnCpu;
    private volatile Consumer<Task> relaxHook = t -> { };
    /** The task whose wake-ups are held back, or {@code null}; guarded by {@code this}. */
    private Task holdWakesOf;
    /** Held wake-ups of {@link #holdWakesOf}; guarded by {@code this}. */
    private final List<Task> held = new ArrayList<>();
    private final ConcurrentHashMap<Task, AtomicInteger> wakes = new ConcurrentHashMap<>();

    /** From now on {@link #isOnCpu} answers {@code p} (the real platform's answer until then). */
    void onCpuWhen(Predicate<Task> p) {
        onCpu = p;
    }

    /** From now on every {@link #cpuRelax()} first runs {@code hook} with the calling task. */
    void onCpuRelax(Consumer<Task> hook) {
        relaxHook = hook;
    }

    /** Holds back the wake-ups of {@code task} until {@link #releaseWakes()}. */
    synchronized void holdWakesOf(Task task) {
        holdWakesOf = task;
    }

    /** Stops holding wake-ups back and delivers those held. */
    void releaseWakes() {
        List<Task> deliver;
        synchronized (this) {
            holdWakesOf = null;
            deliver = new ArrayList<>(held);
            held.clear();
        }
        deliver.forEach(real::wake);
    }

    /** How many wake-ups of {@code task} were asked for (held or delivered) since the platform was made. */
    int wakeCount(Task task) {
        AtomicInteger n = wakes.get(task);
        return n == null ? 0 : n.get();
    }

    @Override
    public void wake(Task task) {
        wakes.computeIfAbsent(task, t -> new AtomicInteger()).incrementAndGet();
        synchronized (this) {
            if (task == holdWakesOf) {
                held.add(task);
                return;
            }
        }
        real.wake(task);
    }

    @Override
    public boolean isOnCpu(Task task) {
        return onCpu.test(task);
    }

    @Override
    public void cpuRelax() {
        relaxHook.accept(real.currentTask());
        real.cpuRelax();
    }

    @Override
    public boolean isCurrentTask(Task task) {
        return real.isCurrentTask(task);
    }
}
