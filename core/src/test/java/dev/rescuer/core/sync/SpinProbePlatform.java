package dev.rescuer.core.sync;

import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.ForwardingPlatform;

import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A {@link RealPlatform} for the tests of a spinning waiter: the test decides {@link #isOnCpu}, sees
 * every {@link #cpuRelax()} (on the spinning task's own thread, where it may hold the spinner), and
 * holds back and counts wake-ups ({@link ForwardingPlatform#holdWakesOf}), so that a barger wins
 * against a woken waiter on every run instead of by luck.
 */
final class SpinProbePlatform extends ForwardingPlatform {

    private volatile Predicate<Task> onCpu = real::isOnCpu;
    private volatile Consumer<Task> relaxHook = t -> { };

    /** From now on {@link #isOnCpu} answers {@code p} (the real platform's answer until then). */
    void onCpuWhen(Predicate<Task> p) {
        onCpu = p;
    }

    /** From now on every {@link #cpuRelax()} first runs {@code hook} with the calling task. */
    void onCpuRelax(Consumer<Task> hook) {
        relaxHook = hook;
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
