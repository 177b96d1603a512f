package dev.rescuer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.sim.scenarios.Scenarios;
import dev.rescuer.storage.runner.StackScenario;
import dev.rescuer.storage.stack.StackFileException;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What the simulator's commands share: finding scenarios, stack files and variants, parsing seeds, JSON, quiet logs. */
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

    /**
     * The scenario called {@code name}, or the stack file at that path ({@code .yaml}/{@code .yml}, or
     * any existing file). A refused stack file is a usage error naming its file, line and column.
     */
    static Scenario scenario(CommandLine cmd, String name) {
        if (isStackFile(name)) {
            return stack(cmd, Path.of(name));
        }
        try {
            return Scenarios.byName(name);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage() + "; or give a stack file (.yaml)");
        }
    }

    /** Whether {@code name} names a stack file rather than a built-in scenario. */
    static boolean isStackFile(String name) {
        return name.endsWith(".yaml") || name.endsWith(".yml") || Files.isRegularFile(Path.of(name));
    }

    /** Loads a stack file, turning its refusal into a usage error (exit 2). */
    static StackScenario stack(CommandLine cmd, Path path) {
        try {
            return StackScenario.load(path);
        } catch (StackFileException e) {
            throw new CommandLine.ParameterException(cmd, e.getMessage());
        }
    }

    /** The scenarios a seed may belong to: the built-in ones and {@code s}. */
    static List<Scenario> catalogue(Scenario s) {
        List<Scenario> all = new ArrayList<>(Scenarios.all());
        if (!all.contains(s)) {
            all.add(s);
        }
        return all;
    }

    /**
     * The {@code stacks/} folder of the checkout the CLI runs from: the first ancestor of the CLI's
     * classes or jar that has one (or the working directory's), or {@code null}.
     */
    static Path stacksDir() {
        try {
            Path p = Path.of(SimOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path d = p; d != null; d = d.getParent()) {
                if (Files.isDirectory(d.resolve("stacks")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                    return d.resolve("stacks");
                }
            }
        } catch (java.net.URISyntaxException | SecurityException | NullPointerException e) {
            // fall back to the working directory
        }
        Path cwd = Path.of("stacks");
        return Files.isDirectory(cwd) ? cwd : null;
    }

    /** Every stack file in {@link #stacksDir()}, in name order, by the path the CLI names it with ({@code stacks/x.yaml}). */
    static java.util.Map<String, StackScenario> shippedStacks(CommandLine cmd) {
        Path dir = stacksDir();
        java.util.Map<String, StackScenario> out = new java.util.LinkedHashMap<>();
        if (dir == null) {
            return out;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
                out.put("stacks/" + f.getFileName(), stack(cmd, f));
            }
        } catch (java.io.IOException e) {
            throw new CommandLine.ParameterException(cmd, "cannot list " + dir + ": " + e.getMessage());
        }
        return out;
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
