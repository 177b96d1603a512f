package dev.rescuer.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code rescuer demo}: the main job. Until the simulator's scenarios exist it runs the runtime's
 * self-check, and says so.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "The main job. For now: the runtime's self-check (the deadlock scenarios arrive with the simulator).")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--verbose", description = "Also show the runtime's warnings, most of which the checks provoke on purpose.")
    boolean verbose;

    @Override
    public Integer call() {
        System.out.println("Rescuer demo: the deadlock scenarios need the simulator, which is not built yet;");
        System.out.println("running the runtime's self-check instead.");
        System.out.println();
        return SelfCheckCommand.run(System.out, verbose);
    }
}
