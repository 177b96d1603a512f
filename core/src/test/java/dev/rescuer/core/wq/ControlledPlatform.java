package dev.rescuer.core.wq;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.testing.ForwardingPlatform;

import java.util.function.Predicate;

/**
 * A {@link RealPlatform} whose answer to {@link Platform#isBlockedOutsidePlatform} the test decides,
 * so that concurrency management's use of it can be tested without depending on how a real platform
 * reads JVM thread states; and (as every {@link ForwardingPlatform}) which can count and hold back
 * the wake-ups of chosen tasks, so that a test can look at the runtime while a woken task is still
 * "on its way"; and on which one named timer fires only by hand.
 */
final class ControlledPlatform extends ForwardingPlatform {

    private volatile Predicate<Task> blockedOutside = t -> false;
    private final String manualTimerName;
    private volatile ManualTimer manualTimer;

    /** A controlled platform whose timers are all real. */
    ControlledPlatform() {
        this(null);
    }

    /** A controlled platform on which the timer named {@code manualTimerName} fires only by {@link #manualTimer()}. */
    ControlledPlatform(String manualTimerName) {
        this.manualTimerName = manualTimerName;
    }

    /** A timer the test fires by hand: arming only records it. */
    static final class ManualTimer implements PlatformTimer {
        private final String name;
        private final Runnable callback;
        private volatile boolean pending;

        ManualTimer(String name, Runnable callback) {
            this.name = name;
            this.callback = callback;
        }

        @Override public String name() { return name; }

        @Override public boolean arm(java.time.Duration delay) {
            boolean was = pending;
            pending = true;
            return was;
        }
        @Override public boolean cancel() {
            boolean was = pending;
            pending = false;
            return was;
        }
        @Override public boolean cancelSync() { return cancel(); }
        @Override public boolean isPending() { return pending; }

        /** Runs the callback on the calling thread, as the timer context would, if the timer is armed. */
        void fire() {
            if (!pending) {
                throw new AssertionError("the timer is not armed");
            }
            pending = false;
            callback.run();
        }
    }

    /** The manual timer, once the runtime has created it. */
    ManualTimer manualTimer() {
        return manualTimer;
    }

    /** From now on, a task counts as blocked outside the platform when {@code p} says so. */
    void blockedOutsideWhen(Predicate<Task> p) {
        blockedOutside = p;
    }

    @Override public boolean isBlockedOutsidePlatform(Task task) { return blockedOutside.test(task); }
    @Override public PlatformTimer newTimer(String name, Runnable callback) {
        if (name.equals(manualTimerName)) {
            ManualTimer t = new ManualTimer(name, callback);
            manualTimer = t;
            return t;
        }
        return real.newTimer(name, callback);
    }
}
