package dev.rescuer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.sim.scenarios.Scenarios;
import picocli.CommandLine;

/** What the simulator's commands share: finding scenarios and variants, parsing seeds, JSON, quiet logs. */
final class SimOptions {

    /** Held so that JUL keeps the level set on it (it references loggers weakly). */
    private static final java.util.logging.Logger RUNTIME_LOG = java.util.logging.Logger.getLogger("dev.rescuer");

    private SimOptions() {
    }

    /**
     * Silences the runtime's log unless {@code verbose}: under exploration the hung-task detector and the
     * watchdog fire on purpose in every hanging schedule, and their reports are part of the result.
     */
    static void quietRuntime(boolean verbose) {
        RUNTIME_LOG.setLevel(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.OFF);
    }

    static Scenario scenario(CommandLine cmd, String name) {
        try {
            return Scenarios.byName(name);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    static Variant variant(CommandLine cmd, Scenario s, String name) {
        if (name == null) {
            return s.variants().get(0);
        }
        try {
            return s.variant(name);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, "--variant: " + e.getMessage());
        }
    }

    static ObjectMapper json() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    /** Parses seeds given as {@code 0x} hex or decimal, for picocli. */
    static final class SeedConverter implements CommandLine.ITypeConverter<RunSeed> {
        @Override
        public RunSeed convert(String value) {
            try {
                return RunSeed.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Parses a base seed given as {@code 0x} hex or decimal, for picocli. */
    static final class BaseSeedConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                return RunSeed.parse(value).value();
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
