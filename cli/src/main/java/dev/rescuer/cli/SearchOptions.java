package dev.rescuer.cli;

import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.StrategyKind;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The schedule-search options {@code explore} and {@code check} share (a picocli mixin). */
final class SearchOptions {

    @Option(names = "--strategy", paramLabel = "random|pct", defaultValue = "pct",
            description = "Schedule search: random walk or PCT (default: ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--depth", paramLabel = "D", defaultValue = "3", description = "PCT's bug depth, 1..15 (default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", converter = SimOptions.BaseSeedConverter.class,
            description = "The exploration's base seed, decimal or 0x hex (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--progress", paramLabel = "auto|always|never", defaultValue = "auto",
            converter = ProgressModeConverter.class,
            description = "Progress on stderr: schedules done, hangs found, rate, time left; auto shows it only on a terminal "
                    + "(default: ${DEFAULT-VALUE}).")
    CliMonitor.Mode progress;

    @Option(names = "--parallel", paramLabel = "P", defaultValue = "1",
            description = "Explorer threads; the result does not depend on it (default: ${DEFAULT-VALUE}).")
    int parallel;

    /**
     * The explore options for {@code schedules} schedules, refusing bad values as usage errors that name
     * the option.
     */
    ExploreOptions toOptions(CommandLine cmd, int schedules, boolean stopAtFirstHang) {
        StrategyKind kind;
        try {
            kind = StrategyKind.parse(strategy);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--strategy: " + e.getMessage());
        }
        if (kind == StrategyKind.RANDOM && cmd.getParseResult() != null && cmd.getParseResult().hasMatchedOption("--depth")) {
            throw new CommandLine.ParameterException(cmd, "--depth: PCT's bug depth has no meaning with --strategy random");
        }
        try {
            return new ExploreOptions(kind, depth, schedules, seed, parallel, ExploreOptions.DEFAULT_LIVELOCK_BOUND, stopAtFirstHang);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--" + e.getMessage()); // messages start with the field's name
        }
    }

    /** Parses {@code --progress}'s value, naming the allowed ones. */
    static final class ProgressModeConverter implements CommandLine.ITypeConverter<CliMonitor.Mode> {
        @Override
        public CliMonitor.Mode convert(String value) {
            for (CliMonitor.Mode m : CliMonitor.Mode.values()) {
                if (m.name().equalsIgnoreCase(value)) {
                    return m;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not one of auto, always, never");
        }
    }
}
