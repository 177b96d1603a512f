package dev.rescuer.core.platform;

/**
 * How long one task of {@link RealPlatform} spins on its wake-up permit before it parks: an adaptive
 * budget, kept per task and touched only by that task (plain fields, no sharing).
 *
 * <p>A spin that ends with the wake-up ("succeeded") doubles the budget, up to {@link #MAX_NANOS}; a
 * spin that runs out ("failed", the task then parks) halves it. Below {@link #MIN_NANOS} the task
 * stops spinning, and then tries a probe spin of {@code MIN_NANOS} once every {@link #PROBE_EVERY}
 * parks, so that a task whose wakers became fast again (or whose machine became idle again) finds out.
 * That is HotSpot's adaptive spinning for contended monitors ({@code ObjectMonitor::TrySpin}: the
 * spin duration grows on success and shrinks on failure) applied to the park. A task whose wake-ups
 * come late, or whose waker cannot run while it spins (on a machine with fewer free CPUs than
 * spinners), thus drops to one short probe in sixteen parks, which bounds what spinning can cost it;
 * a task woken soon after it parks (a ping-pong, an idle worker of a busy pool) keeps spinning and
 * pays no futex wake-up.
 */
class SpinBudget {

    /** The longest spin, in nanoseconds: about half a futex wake-up on the machines measured. */
    static final long MAX_NANOS = 20_000;
    /** The shortest spin worth doing, and the length of a probe. */
    static final long MIN_NANOS = 1_000;
    /** With spinning off, one park in this many spins for {@link #MIN_NANOS}. */
    static final int PROBE_EVERY = 16;

    /** The current budget; 0 (below {@link #MIN_NANOS}) when spinning is off. */
    private long nanos;
    /** Parks since spinning went off, for the probe. */
    private int parksWithoutSpin;

    /** A budget that starts at {@code initialNanos} (0: off until the first probe succeeds). */
    SpinBudget(long initialNanos) {
        if (initialNanos < 0 || initialNanos > MAX_NANOS) {
            throw new IllegalArgumentException("spin budget must be within 0.." + MAX_NANOS + " ns, got " + initialNanos);
        }
        this.nanos = initialNanos < MIN_NANOS ? 0 : initialNanos;
    }

    /** How long the next park may spin, in nanoseconds; 0 means park at once. */
    long next() {
        if (nanos != 0) {
            return nanos;
        }
        if (++parksWithoutSpin >= PROBE_EVERY) {
            parksWithoutSpin = 0;
            return MIN_NANOS;
        }
        return 0;
    }

    /**
     * Records the outcome of a spin that {@link #next()} allowed. Called by the parking task after its
     * spin's last look at the permit and before it announces that it parks (a test overrides it to
     * wake the task in exactly that window).
     */
    void spun(boolean woken) {
        if (woken) {
            nanos = Math.min(MAX_NANOS, Math.max(MIN_NANOS, nanos * 2));
        } else {
            long half = nanos / 2;
            nanos = half < MIN_NANOS ? 0 : half;
        }
    }

    /** The current budget in nanoseconds (0 when off); for tests and reports. */
    long nanos() {
        return nanos;
    }
}
