package dev.rescuer.storage.stack;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

import java.io.IOException;
import java.util.random.RandomGenerator;

/**
 * A duration in milliseconds that a stack file gives either as a number ({@code start_ms: 100}) or
 * as a range {@code lo..hi} ({@code start_ms: 0..400}), drawn once per run, uniformly in
 * {@code [lo, hi)}, from the run's workload stream ({@link StackBuild#random()}): the same seed draws
 * the same value, and other seeds explore other timings of the same workload, as a command that is
 * typed "some time in the first 400 ms" would. A fixed number draws nothing, so a stack without ranges
 * replays exactly as before. {@code lo == hi} is that one value.
 *
 * <p>Refused, with the key's line and column: a range whose bounds are not non-negative numbers
 * ({@code -5..10}, {@code a..b}), one with {@code lo > hi}, a string that is not a range, any other
 * type (a list), a number that is not finite. A negative number is refused by the kind's own check
 * ({@link StartDelay#check}).
 *
 * @param lo the lowest value drawn, in milliseconds
 * @param hi the bound of the values drawn; equal to {@code lo} for a fixed value
 */
@JsonDeserialize(using = DrawnMillis.Parser.class)
public record DrawnMillis(double lo, double hi) {

    private static final String EXPECTED = "expected a number of milliseconds or a range lo..hi (e.g. 0..400)";

    /** A value or range; {@code lo <= hi} (each may be negative here: the kind's check refuses that). */
    public DrawnMillis {
        if (Double.isNaN(lo) || Double.isNaN(hi) || lo > hi) {
            throw new IllegalArgumentException("a range needs lo <= hi, got " + lo + ".." + hi);
        }
    }

    /** One fixed value. */
    public static DrawnMillis of(double ms) {
        return new DrawnMillis(ms, ms);
    }

    /**
     * Parses {@code lo..hi} (bounds are non-negative decimal numbers, spaces allowed around them).
     *
     * @throws IllegalArgumentException naming what is wrong, if {@code text} is not such a range
     */
    public static DrawnMillis parse(String text) {
        int dots = text.indexOf("..");
        if (dots < 0) {
            throw new IllegalArgumentException(EXPECTED + ", got '" + text + "'");
        }
        String loText = text.substring(0, dots).trim();
        String hiText = text.substring(dots + 2).trim();
        double lo = bound(loText, "lower", text);
        double hi = bound(hiText, "upper", text);
        if (lo > hi) {
            throw new IllegalArgumentException("range '" + text + "': the lower bound " + loText
                    + " is above the upper bound " + hiText);
        }
        return new DrawnMillis(lo, hi);
    }

    private static double bound(String s, String which, String text) {
        double v;
        try {
            v = Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("range '" + text + "': the " + which + " bound '" + s + "' is not a number");
        }
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("range '" + text + "': the " + which + " bound must be a finite number >= 0, got " + s);
        }
        return v;
    }

    /** Whether this is a range to draw from rather than one value. */
    public boolean isRange() {
        return lo != hi;
    }

    /**
     * The value for this run: {@link #lo()} for a fixed value (nothing is drawn), else one uniform draw
     * in {@code [lo, hi)} from {@code random}.
     */
    public double draw(RandomGenerator random) {
        return isRange() ? lo + random.nextDouble() * (hi - lo) : lo;
    }

    @Override
    public String toString() {
        return isRange() ? lo + ".." + hi : Double.toString(lo);
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_ARRAY -> "a list";
            case START_OBJECT -> "a mapping";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> String.valueOf(t);
        };
    }

    /** Reads a number or a {@code lo..hi} string; anything else is a mapping error at the key. */
    static final class Parser extends JsonDeserializer<DrawnMillis> {
        @Override
        public DrawnMillis deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                double v = p.getDoubleValue();
                if (Double.isNaN(v) || Double.isInfinite(v)) {
                    throw JsonMappingException.from(p, "must be a finite number of milliseconds, got " + v);
                }
                return of(v);
            }
            if (t == JsonToken.VALUE_STRING) {
                try {
                    return parse(p.getText());
                } catch (IllegalArgumentException e) {
                    throw JsonMappingException.from(p, e.getMessage());
                }
            }
            throw JsonMappingException.from(p, EXPECTED + ", got " + describe(t));
        }
    }
}
