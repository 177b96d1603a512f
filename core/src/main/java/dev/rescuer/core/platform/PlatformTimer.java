package dev.rescuer.core.platform;

import java.time.Duration;

/**
 * A one-shot timer, like the kernel's {@code timer_list}: armed with a delay, it runs its callback once
 * on the platform's timer context.
 *
 * <p>The callback runs in <em>atomic context</em> (the kernel runs timers in softirq): it must not
 * sleep, and any blocking call from it throws {@link AtomicContextException}. It may take spin locks,
 * wake tasks, queue work and re-arm timers, this one included. A callback that throws is reported
 * through {@code System.Logger} and does not stop the timer context.
 */
public interface PlatformTimer {

    /** The timer's name, for reports. */
    String name();

    /**
     * Arms the timer to fire {@code delay} from now, replacing any earlier arming
     * ({@code mod_timer}).
     *
     * @return whether the timer was pending before this call
     * @throws IllegalArgumentException if the delay is negative
     */
    boolean arm(Duration delay);

    /**
     * Disarms the timer without waiting for a callback that is already running ({@code timer_delete}).
     *
     * @return whether the timer was pending, so that this call prevented a callback
     */
    boolean cancel();

    /**
     * Disarms the timer and waits for a running callback to finish ({@code timer_delete_sync}). A
     * callback that re-arms its own timer meanwhile is disarmed again once it finishes, so on return
     * the timer is neither pending nor running, unless another context armed it concurrently.
     * Calling it from the timer's own callback is an error.
     *
     * @return whether the timer was pending
     */
    boolean cancelSync();

    /** Whether the timer is armed and has not fired yet. Advisory when racing with the timer. */
    boolean isPending();
}
