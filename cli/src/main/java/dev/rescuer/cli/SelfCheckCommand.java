package dev.rescuer.cli;

import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/** {@code rescuer selfcheck}: exercises the runtime's guarantees on real threads and reports each. */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Exercise the runtime's core guarantees (locks, writer preference, atomic context, "
                + "reclaim contexts, mempool reserve, thread-creation cost) on real threads and report each.")
final class SelfCheckCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        return run(System.out);
    }

    static int run(PrintStream out) {
        SelfCheck.Result r = new SelfCheck(out).runAll();
        out.printf("%n%d passed, %d failed%n", r.passed(), r.failed());
        return r.failed() == 0 ? 0 : 1;
    }
}
