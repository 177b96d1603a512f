package dev.rescuer.sim.explore;

import java.util.List;

/**
 * The seed of one run, which is all {@code replay} needs: 64 bits that hold a 16-bit fingerprint of
 * the scenario and variant, the strategy (2 bits), PCT's depth (4 bits) and 42 random bits from which
 * the strategy's and the fault injector's draws are made. Printed as {@code 0x} and 16 hex digits.
 *
 * <p>The fingerprint lets {@code replay} refuse a seed recorded for another scenario or variant, and
 * say which one it was recorded for.
 */
public record RunSeed(long value) {

    /** The random bits' width. */
    public static final int RANDOM_BITS = 42;
    private static final long RANDOM_MASK = (1L << RANDOM_BITS) - 1;

    /** The seed of a run of {@code scenario}/{@code variant} under {@code kind} with {@code depth}. */
    public static RunSeed of(Scenario scenario, Variant variant, StrategyKind kind, int depth, long random) {
        if (depth < 1 || depth > 15) {
            throw new IllegalArgumentException("depth must be in 1..15, got " + depth);
        }
        long v = ((long) fingerprint(scenario.name(), variant.name()) << 48)
                | ((long) kind.ordinal() << 46)
                | ((long) depth << RANDOM_BITS)
                | (random & RANDOM_MASK);
        return new RunSeed(v);
    }

    /** The seed of schedule {@code index} of an exploration started from {@code baseSeed}. */
    public static RunSeed forSchedule(Scenario scenario, Variant variant, StrategyKind kind, int depth, long baseSeed, long index) {
        return of(scenario, variant, kind, depth, mix(baseSeed + 0x9e3779b97f4a7c15L * (index + 1)));
    }

    /** The 16-bit fingerprint of a scenario and variant. */
    public static int fingerprint(String scenario, String variant) {
        return (int) (mix((scenario + "/" + variant).hashCode()) >>> 48);
    }

    /** The fingerprint this seed carries. */
    public int fingerprint() {
        return (int) (value >>> 48);
    }

    /** The strategy this seed runs. */
    public StrategyKind strategy() {
        int k = (int) ((value >>> 46) & 3);
        if (k >= StrategyKind.values().length) {
            throw new IllegalArgumentException("seed " + this + " names no strategy (code " + k + ")");
        }
        return StrategyKind.values()[k];
    }

    /** PCT's depth this seed runs with. */
    public int depth() {
        return (int) ((value >>> RANDOM_BITS) & 15);
    }

    /** The random bits, the seed of the strategy and the fault injector. */
    public long random() {
        return value & RANDOM_MASK;
    }

    /**
     * Checks that this seed was recorded for {@code scenario}/{@code variant}.
     *
     * @param all every scenario, to name the one a foreign seed belongs to
     * @throws IllegalArgumentException if it was not, naming what it was recorded for when known
     */
    public void checkFor(Scenario scenario, Variant variant, List<Scenario> all) {
        int strategyCode = (int) ((value >>> 46) & 3);
        boolean wellFormed = depth() >= 1 && strategyCode < StrategyKind.values().length;
        if (fingerprint() == fingerprint(scenario.name(), variant.name())) {
            if (wellFormed) {
                return;
            }
            throw new IllegalArgumentException("seed " + this + " carries the fingerprint of " + scenario.name() + " --variant "
                    + variant.name() + " but was not printed by explore: "
                    + (depth() < 1 ? "its depth field is 0" : "its strategy code " + strategyCode + " names no strategy"));
        }
        String owner = null;
        for (Scenario s : all) {
            for (Variant v : s.variants()) {
                if (fingerprint(s.name(), v.name()) == fingerprint()) {
                    owner = s.name() + " --variant " + v.name();
                }
            }
        }
        throw new IllegalArgumentException("seed " + this + " was not recorded for " + scenario.name() + " --variant "
                + variant.name() + (owner != null ? "; it replays " + owner : "; no scenario recorded it"));
    }

    /**
     * Parses {@code 0x}-prefixed hex (as printed) or unsigned decimal.
     *
     * @throws IllegalArgumentException naming the text
     */
    public static RunSeed parse(String text) {
        String t = text.trim();
        String digits = t.startsWith("0x") || t.startsWith("0X") ? t.substring(2) : t;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c > 0x7f) {
                throw new IllegalArgumentException("'" + text + "' is not a seed: '" + c + "' is not an ASCII digit");
            }
        }
        try {
            if (t.startsWith("0x") || t.startsWith("0X")) {
                return new RunSeed(Long.parseUnsignedLong(t.substring(2), 16));
            }
            return new RunSeed(Long.parseUnsignedLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a seed: expected 0x and up to 16 hex digits, or a decimal number");
        }
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return String.format("0x%016x", value);
    }
}
