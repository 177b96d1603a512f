package dev.rescuer.sim;

import dev.rescuer.core.platform.PlatformTimer;

import java.time.Duration;

/**
 * A timer on virtual time. Arming pushes an {@link Arming} into the simulation's heap; re-arming or
 * cancelling bumps the generation, which makes earlier armings stale, so they are skipped rather than
 * searched for. The callback runs inline at a scheduling point, under the timer context's record.
 */
final class SimTimer implements PlatformTimer {

    private final SimPlatform platform;
    private final String name;
    final Runnable callback;
    private long generation;
    private boolean pending;
    private boolean running;

    SimTimer(SimPlatform platform, String name, Runnable callback) {
        this.platform = platform;
        this.name = name;
        this.callback = callback;
    }

    /** One arming in the heap, ordered by deadline then arming order. */
    static final class Arming implements Comparable<Arming> {
        final long deadline;
        final long seq;
        final SimTimer timer;
        final long generation;

        Arming(long deadline, long seq, SimTimer timer, long generation) {
            this.deadline = deadline;
            this.seq = seq;
            this.timer = timer;
            this.generation = generation;
        }

        /** Whether this is still the timer's live arming. */
        boolean isCurrent() {
            return timer.pending && timer.generation == generation;
        }

        @Override
        public int compareTo(Arming o) {
            int c = Long.compare(deadline, o.deadline);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean arm(Duration delay) {
        platform.checkCaller();
        if (delay.isNegative()) {
            throw new IllegalArgumentException("timer " + name + ": negative delay " + delay);
        }
        boolean was = pending;
        pending = true;
        generation++;
        platform.schedule(this, generation, delay);
        return was;
    }

    @Override
    public boolean cancel() {
        platform.checkCaller();
        boolean was = pending;
        pending = false;
        generation++;
        return was;
    }

    @Override
    public boolean cancelSync() {
        // A callback runs to completion before any task runs again, so only the callback itself can
        // see it running.
        if (running && platform.inTimerContext()) {
            throw new IllegalStateException("timer " + name + ": cancelSync from its own callback would wait for itself");
        }
        return cancel();
    }

    @Override
    public boolean isPending() {
        return pending;
    }

    void firing() {
        pending = false;
        running = true;
    }

    void fired() {
        running = false;
    }

    @Override
    public String toString() {
        return "timer " + name;
    }
}
