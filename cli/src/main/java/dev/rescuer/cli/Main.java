package dev.rescuer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ./rescuer} command line. Exit codes: 0 success, 1 a check or run failed, 2 bad usage.
 */
@Command(name = "rescuer",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Forward progress in layered I/O on the JVM: kernel-style workqueues, sleeping locks and a page budget.",
        subcommands = {DemoCommand.class, SelfCheckCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code. */
    static int execute(String... args) {
        return new CommandLine(new Main()).execute(args);
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
