package dev.rescuer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./rescuer} command line. Exit codes: 0 success, 1 a check or run failed, 2 bad usage.
 */
@Command(name = "rescuer",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Forward progress in layered I/O on the JVM: kernel-style workqueues, sleeping locks and a page budget, "
                + "and a deterministic simulator that finds their deadlocks.",
        footer = {"", "Terms (PCT, depth, base and run seed, step and choice, virtual time, pwq, mayday, GFP, NOIO/NOFS): "
                + "docs/GLOSSARY.md. 'rescuer help COMMAND' or 'rescuer COMMAND --help' shows a command's options."},
        subcommands = {DemoCommand.class, CheckCommand.class, AnalyzeCommand.class, ExploreCommand.class, ReplayCommand.class, SelfCheckCommand.class, BenchCommand.class,
                SimBenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code. */
    static int execute(String... args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main());
        cl.registerConverter(Integer.class, Main::parseAsciiInt);
        cl.registerConverter(int.class, Main::parseAsciiInt);
        args = helpFirst(cl, args);
        cl.setParameterExceptionHandler((ex, a) -> {
            java.io.PrintWriter err = ex.getCommandLine().getErr();
            err.println("rescuer: " + ex.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) {
                err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            }
            return CommandLine.ExitCode.USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("rescuer: " + cmd.getCommandName() + " failed: " + ex
                    + (verbose ? "" : " (run with --verbose for the stack trace)"));
            if (verbose) {
                ex.printStackTrace(cmd.getErr());
            }
            return CommandLine.ExitCode.SOFTWARE;
        });
        return cl.execute(args);
    }

    /**
     * {@code rescuer --help explore} (or {@code -h}) is read as {@code rescuer help explore}, so it shows
     * explore's help rather than the top level's.
     */
    static String[] helpFirst(CommandLine cl, String[] args) {
        if (args.length >= 2 && (args[0].equals("--help") || args[0].equals("-h")) && cl.getSubcommands().containsKey(args[1])) {
            String[] out = args.clone();
            out[0] = "help";
            return out;
        }
        return args;
    }

    /**
     * Parses a decimal {@code int} of ASCII digits with an optional sign. {@link Integer#parseInt} also
     * takes other scripts' digits ({@code ١٠} is 10), which a command line should refuse.
     */
    static Integer parseAsciiInt(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9') && !(i == 0 && (c == '-' || c == '+'))) {
                throw new CommandLine.TypeConversionException("'" + text + "' is not a decimal integer (ASCII digits only)");
            }
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a decimal integer in "
                    + Integer.MIN_VALUE + ".." + Integer.MAX_VALUE);
        }
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand; try 'rescuer --help'");
    }

    /** The version from the jar's manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"rescuer " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
