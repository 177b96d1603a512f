package dev.rescuer.cli;

import dev.rescuer.sim.explore.ExploreMonitor;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The command line's watch over a long exploration: a progress line on stderr (schedules done, hangs
 * found, rate, time left) and Ctrl-C / SIGTERM handling.
 *
 * <p>On a signal the JVM runs its shutdown hooks; this one asks the exploration to stop after the
 * schedules now running ({@link ExploreMonitor#requestStop}), then waits until the command has printed
 * what it found so far (it calls {@link #close} when it has), at most {@link #PRINT_GRACE_SECONDS}, so
 * the JVM exits with the signal's status (130 for SIGINT, 143 for SIGTERM) only after the output is
 * out. One monitor serves a whole command: once stopped, every later exploration stops at once.
 *
 * <p>Progress goes to stderr only; with {@code auto} only when the JVM has a console (Java 17 cannot
 * ask whether stderr alone is a terminal), redrawn in place with a carriage return at most four times
 * a second; with {@code always} and no console, as whole lines at most once a second.
 */
final class CliMonitor extends ExploreMonitor implements AutoCloseable {

    /** How long the shutdown hook waits for the command to print its partial result. */
    static final int PRINT_GRACE_SECONDS = 30;

    /** When to show progress. */
    enum Mode { AUTO, ALWAYS, NEVER }

    private final PrintStream err;
    private final boolean show;
    private final boolean inPlace;
    private final CountDownLatch printed = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean signalled;

    // Guarded by this: the current exploration's label and when the line was last drawn.
    private String label = "";
    private long startedNanos;
    private long lastDrawnNanos;
    private int drawnWidth;

    CliMonitor(PrintStream err, Mode mode) {
        this.err = err;
        boolean console = System.console() != null;
        this.show = mode == Mode.ALWAYS || (mode == Mode.AUTO && console);
        this.inPlace = console;
        this.hook = new Thread(() -> {
            signalled = true;
            requestStop();
            try {
                printed.await(PRINT_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "rescuer-stop-on-signal");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a signal stopped the command. */
    boolean signalled() {
        return signalled;
    }

    /** Starts the progress line of the next exploration. */
    synchronized void begin(String what) {
        label = what;
        startedNanos = System.nanoTime();
        lastDrawnNanos = 0;
    }

    @Override
    public void scheduleFinished(long finished, long findings, long requested) {
        if (!show) {
            return;
        }
        synchronized (this) {
            long now = System.nanoTime();
            long every = inPlace ? 250_000_000L : 1_000_000_000L;
            if (finished < requested && now - lastDrawnNanos < every) {
                return;
            }
            lastDrawnNanos = now;
            double elapsed = (now - startedNanos) / 1e9;
            double rate = elapsed > 0 ? finished / elapsed : 0;
            String left = rate > 0 && finished < requested ? String.format(", about %.0f s left", (requested - finished) / rate) : "";
            String line = String.format("%s: %,d/%,d schedules, %,d hung or failed, %.0f/s%s", label, finished, requested, findings,
                    rate, left);
            if (inPlace) {
                err.print("\r" + line + " ".repeat(Math.max(0, drawnWidth - line.length())));
                drawnWidth = line.length();
            } else {
                err.println(line);
            }
            err.flush();
        }
    }

    /** Ends the progress line, so the next output starts on a clean line. */
    synchronized void end() {
        if (show && inPlace && drawnWidth > 0) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            err.flush();
            drawnWidth = 0;
        }
    }

    /** The command has printed its result: let a pending shutdown proceed, and stop watching for signals. */
    @Override
    public void close() {
        end();
        System.out.flush();
        err.flush();
        printed.countDown();
        if (!signalled) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal arrived just now; the hook sees the latch open and returns
            }
        }
    }
}
