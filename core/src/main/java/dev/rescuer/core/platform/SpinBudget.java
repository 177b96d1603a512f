package dev.rescuer.core.platform;

import java.time.Duration;

/**
 * How long one task of {@link RealPlatform} spins on its wake-up permit before it parks: an adaptive
 * budget, kept per task and touched only by that task (plain fields, no sharing).
 *
 * <p>A spin that ends with the wake-up ("succeeded") doubles the budget, up to {@link #MAX_NANOS}
 * (or the lower bound the platform was given); a spin that runs out ("failed", the task then parks)
 * halves it. Below {@link #MIN_NANOS} the task stops spinning, and then tries a probe spin of
 * {@link #PROBE_NANOS} after {@link #PROBE_EVERY} parks, each failed probe doubling the parks to the
 * next one up to {@link #PROBE_EVERY_MAX}, so that a task whose wakers became fast again (or whose
 * machine became idle again) finds out, and one for which spinning keeps failing pays at most one
 * probe in 256 parks (40 µs of CPU in 256 sleeps).
 * That is HotSpot's adaptive spinning for contended monitors ({@code ObjectMonitor::TrySpin}: the
 * spin duration grows on success and shrinks on failure) applied to the park. A task whose wake-ups
 * come late, or whose waker cannot run while it spins (the woken partner queued behind the spinner on
 * its CPU, or a machine with fewer free CPUs than spinners), thus drops to rare probes;
 * a task woken soon after it parks (a ping-pong, an idle worker of a busy pool) keeps spinning and
 * pays no futex wake-up.
 *
 * <p>A spin that ran out shrinks the budget even if the wake-up came just after it. The guest's
 * halt-polling governor grows its poll in that case instead; measured here, that rule made idle
 * workers spin on CPUs their wakers needed (docs/ARCHITECTURE.md, "A sleeping task spins before it
 * parks").
 */
class SpinBudget {

    /**
     * The longest spin, in nanoseconds. It must outlast a parked partner's answer, which comes one
     * futex wake-up later (20 to 30 µs on the virtual machine measured): a limit below that never
     * catches such an answer, so a ping-pong whose spins once ran out would park on both sides for
     * good (docs/PERFORMANCE.md, "The spin's limits"). This is about three such wake-ups.
     */
    static final long MAX_NANOS = 80_000;
    /** The shortest spin worth doing: a budget halved below it turns spinning off. */
    static final long MIN_NANOS = 2_500;
    /**
     * The length of a probe: longer than a parked partner's answer (one futex wake-up, see
     * {@link #MAX_NANOS}), so that a probe can succeed whenever spinning would pay, including in a
     * ping-pong where both sides park; at most one probe in {@link #PROBE_EVERY} parks.
     */
    static final long PROBE_NANOS = 40_000;
    /** With spinning off, the first probe comes this many parks after the spin that turned it off. */
    static final int PROBE_EVERY = 16;
    /** Each failed probe doubles the parks until the next one, up to this many. */
    static final int PROBE_EVERY_MAX = 256;

    /** This budget's longest spin: {@link #MAX_NANOS} unless the platform was given a lower one. */
    private final long maxNanos;
    /** This budget's probe: {@link #PROBE_NANOS}, or {@link #maxNanos} if that is shorter. */
    private final long probeNanos;
    /** The current budget; 0 (below {@link #MIN_NANOS}) when spinning is off. */
    private long nanos;
    /** Parks since spinning went off or since the last probe. */
    private int parksWithoutSpin;
    /** Parks from one probe to the next: {@link #PROBE_EVERY}, doubled by each failed probe. */
    private int probeEvery = PROBE_EVERY;
    /** Whether the spin {@link #next()} last allowed was a probe. */
    private boolean probing;

    /** A budget that starts at {@code initialNanos} (0: off until the first probe succeeds). */
    SpinBudget(long initialNanos) {
        this(initialNanos, MAX_NANOS);
    }

    /**
     * A budget that starts at {@code initialNanos} and never spins longer than {@code maxNanos}
     * (its probes included; 0: never).
     *
     * @throws IllegalArgumentException unless {@code maxNanos} is a bound {@link #maxSpinNanos}
     *     accepts and {@code 0 <= initialNanos <= maxNanos}
     */
    SpinBudget(long initialNanos, long maxNanos) {
        maxSpinNanos(Duration.ofNanos(maxNanos));
        if (initialNanos < 0 || initialNanos > maxNanos) {
            throw new IllegalArgumentException("spin budget must be within 0.." + maxNanos + " ns, got " + initialNanos);
        }
        this.maxNanos = maxNanos;
        this.probeNanos = Math.min(PROBE_NANOS, maxNanos);
        this.nanos = initialNanos < MIN_NANOS ? 0 : initialNanos;
    }

    /**
     * A user's bound on the spin ({@code RealPlatform(Duration)}) in nanoseconds: 0 (never spin), or
     * from {@link #MIN_NANOS} (the shortest spin a budget keeps) to {@link #MAX_NANOS}.
     *
     * @throws IllegalArgumentException for any other value, naming it
     */
    static long maxSpinNanos(Duration maxSpin) {
        if (maxSpin == null) {
            throw new NullPointerException("maxSpin");
        }
        if (!maxSpin.isZero() && (maxSpin.compareTo(Duration.ofNanos(MIN_NANOS)) < 0
                || maxSpin.compareTo(Duration.ofNanos(MAX_NANOS)) > 0)) {
            String got = maxSpin.abs().compareTo(Duration.ofDays(1)) < 0 ? maxSpin.toNanos() + " ns" : maxSpin.toString();
            throw new IllegalArgumentException("maxSpin must be zero (no spin) or from " + MIN_NANOS
                    + " to " + MAX_NANOS + " ns, got " + got);
        }
        return maxSpin.toNanos();
    }

    /** How long the next park may spin, in nanoseconds; 0 means park at once. */
    long next() {
        probing = false;
        if (nanos != 0) {
            return nanos;
        }
        if (++parksWithoutSpin >= probeEvery) {
            parksWithoutSpin = 0;
            probing = true;
            return probeNanos;
        }
        return 0;
    }

    /**
     * Records the outcome of a spin that {@link #next()} allowed. Called by the parking task after its
     * spin's last look at the permit and before it announces that it parks (a test overrides it to
     * wake the task in exactly that window).
     */
    void spun(boolean woken) {
        boolean probe = probing;
        probing = false;
        if (woken) {
            nanos = Math.min(maxNanos, Math.max(probeNanos, nanos) * 2);
            probeEvery = PROBE_EVERY;
        } else if (probe) {
            probeEvery = Math.min(PROBE_EVERY_MAX, probeEvery * 2);
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
