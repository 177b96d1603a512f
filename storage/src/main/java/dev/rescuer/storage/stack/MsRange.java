package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A time in milliseconds that a stack file gives either as one number ({@code start_ms: 200}) or as
 * a closed range ({@code start_ms: 150..250}) from which each run draws its own value, uniformly, from
 * the run's workload stream ({@link StackBuild#random()}), so a seed replays it. A range says that
 * the file does not fix when something happens: a database's {@code fsync} arrives at some moment
 * around a driver's reset, not at the same nanosecond in every run.
 *
 * <p>A fixed value draws nothing, so a file without ranges runs exactly as before they existed.
 * Binding refuses what is neither a number nor {@code lo..hi} (the message becomes the stack file's
 * error at the key, with file, line and column); {@link #check} refuses infinite, negative, too
 * large or empty ranges.
 *
 * @param lo the smallest value, in milliseconds
 * @param hi the largest value, in milliseconds; {@code lo} for a fixed value
 */
public record MsRange(double lo, double hi) {

    private static final String NUMBER = "\\s*(-?(?:\\d+(?:\\.\\d*)?|\\.\\d+))\\s*";
    private static final Pattern RANGE = Pattern.compile(NUMBER + "\\.\\." + NUMBER);

    /**
     * The largest bound accepted, in milliseconds: one day of the run's virtual clock. A run whose
     * tasks all sleep longer makes no progress while the kernel's periodic timers fire, and the
     * simulator stops it as a livelock after 200,000 timer events without progress (about 30 days
     * of virtual time, measured); a day keeps every accepted value far inside that.
     */
    static final long MAX_MS = 86_400_000;

    /** A fixed value. */
    public static MsRange of(double ms) {
        return new MsRange(ms, ms);
    }

    /**
     * Binds a stack file's value: a number, or a string {@code lo..hi} (YAML reads {@code 150..250}
     * as a string).
     *
     * @throws IllegalArgumentException naming what was given, for anything else
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static MsRange parse(JsonNode node) {
        if (node.isNumber()) {
            return of(node.doubleValue());
        }
        if (node.isTextual()) {
            Matcher m = RANGE.matcher(node.textValue());
            if (m.matches()) {
                return new MsRange(Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)));
            }
        }
        throw new IllegalArgumentException("expected milliseconds as a number or a range lo..hi (150..250), got "
                + (node.isTextual() ? "'" + node.textValue() + "'" : node.toString()));
    }

    /** Whether each run draws its own value. */
    public boolean isRange() {
        return hi != lo;
    }

    /**
     * Refuses, at key {@code key} of the entry, an infinite, negative or too large ({@link #MAX_MS})
     * bound or a range whose {@code lo} is above its {@code hi}.
     */
    public void check(String key, StackCheck check) {
        if (Double.isInfinite(lo) || Double.isInfinite(hi)) {
            throw check.error(key, "must be a finite number of milliseconds, got " + this);
        }
        if (lo > MAX_MS || hi > MAX_MS) {
            throw check.error(key, "must be at most " + MAX_MS + " ms (one day of the run's virtual clock), got " + this);
        }
        if (lo < 0 || Double.isNaN(lo) || Double.isNaN(hi)) {
            throw check.error(key, "must not be negative, got " + this);
        }
        if (hi < lo) {
            throw check.error(key, "the range " + this + " is empty: its lower bound is above its upper bound");
        }
    }

    /**
     * This run's value in nanoseconds: the fixed value, or one drawn uniformly from the range (to the
     * nanosecond) from {@code random}, which is only touched for a range.
     */
    public long drawNanos(SplittableRandom random) {
        long loNs = Math.round(lo * 1_000_000);
        if (!isRange()) {
            return loNs;
        }
        long hiNs = Math.round(hi * 1_000_000);
        return loNs + random.nextLong(hiNs - loNs + 1);
    }

    /** As the file writes it: {@code 200} or {@code 150..250}. */
    @Override
    public String toString() {
        return isRange() ? format(lo) + ".." + format(hi) : format(lo);
    }

    private static String format(double ms) {
        return ms == Math.rint(ms) && !Double.isInfinite(ms) ? Long.toString((long) ms) : Double.toString(ms);
    }
}
