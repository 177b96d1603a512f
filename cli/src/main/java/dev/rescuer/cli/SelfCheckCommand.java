package dev.rescuer.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/** {@code rescuer selfcheck}: exercises the runtime's guarantees on real threads and reports each. */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Exercise the runtime's core guarantees (locks, writer preference, atomic context, "
                + "reclaim contexts, mempool reserve, thread-creation cost, and a MEM_RECLAIM queue's rescuer "
                + "against the same work without one) on real threads and report each.")
final class SelfCheckCommand implements Callable<Integer> {

    /** Held so that JUL keeps the level set on it (it references loggers weakly). */
    private static final java.util.logging.Logger RUNTIME_LOG = java.util.logging.Logger.getLogger("dev.rescuer");

    @Option(names = "--verbose", description = "Also show the runtime's warnings, most of which the checks provoke on purpose.")
    boolean verbose;

    @Override
    public Integer call() {
        return run(System.out, verbose);
    }

    static int run(PrintStream out, boolean verbose) {
        if (!verbose) {
            RUNTIME_LOG.setLevel(java.util.logging.Level.SEVERE); // allocation failures here are deliberate
        }
        SelfCheck.Result r = new SelfCheck(out).runAll();
        out.printf("%n%d passed, %d failed%n", r.passed(), r.failed());
        return r.failed() == 0 ? 0 : 1;
    }
}
