package dev.rescuer.storage.stack;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * A stack-file value that names one thing ({@code image}) or lists several ({@code [image, spool]}),
 * of which each run draws one, uniformly, from the run's workload random stream
 * ({@link StackBuild#random()}): what a workload does differs from schedule to schedule of one
 * variant, and each schedule replays from its seed. A single name is used as it is, with no draw.
 *
 * @param names the names, at least one, no two alike, in file order
 */
public record OneOf(List<String> names) {

    /**
     * Checks the names and copies them.
     *
     * @throws IllegalArgumentException if there are none, or one repeats
     */
    public OneOf {
        names = List.copyOf(names);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("the list is empty: give one name or several to draw from");
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String n : names) {
            if (!seen.add(n)) {
                throw new IllegalArgumentException("'" + n + "' is listed twice");
            }
        }
    }

    /**
     * The value of a stack-file key: a string, or a list of strings.
     *
     * @throws BadValue naming what is wrong, and which list element if one is
     */
    public static OneOf parse(JsonNode node) {
        if (node.isTextual()) {
            return new OneOf(List.of(node.asText()));
        }
        if (!node.isArray()) {
            throw new BadValue(-1, "wrong type: expected a name or a list of names to draw one from, got " + node);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isTextual()) {
                throw new BadValue(i, "wrong type: expected a name, got " + node.get(i));
            }
            names.add(node.get(i).asText());
        }
        try {
            return new OneOf(names);
        } catch (IllegalArgumentException e) {
            throw new BadValue(-1, e.getMessage());
        }
    }

    /**
     * Reads key {@code key} of an entry ({@link #parse}), refusing a bad value at the key, or at the
     * list element that is wrong ({@code key[i]}).
     *
     * @return the value, or {@code null} if the key is absent
     */
    public static OneOf check(JsonNode node, String key, StackCheck check) {
        if (node == null || node.isNull()) {
            return null;
        }
        try {
            return parse(node);
        } catch (BadValue e) {
            throw check.error(e.index() < 0 ? key : key + "[" + e.index() + "]", e.getMessage());
        }
    }

    /** Why a value is refused, and at which list element ({@code -1}: the value as a whole). */
    public static final class BadValue extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int index;

        BadValue(int index, String message) {
            super(message);
            this.index = index;
        }

        /** The list element refused, or {@code -1} for the value as a whole. */
        public int index() {
            return index;
        }
    }

    /** The key of element {@code i} of {@code node} for a refusal: {@code key[i]} in a list, else {@code key}. */
    public static String keyOf(JsonNode node, String key, int i) {
        return node.isArray() ? key + "[" + i + "]" : key;
    }

    /** This run's name: the only one, or one drawn uniformly from {@code random}. */
    public String draw(RandomGenerator random) {
        return names.size() == 1 ? names.get(0) : names.get(random.nextInt(names.size()));
    }
}
