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
