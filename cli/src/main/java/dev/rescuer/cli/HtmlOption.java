package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --html FILE}, which {@code demo}, {@code explore}, {@code replay}, {@code check} and
 * {@code analyze} share (a picocli mixin): the results also go to one self-contained HTML page
 * ({@link HtmlReport}).
 */
final class HtmlOption {

    @Option(names = "--html", paramLabel = "FILE",
            description = "Also write the results to FILE as one self-contained HTML page: the tables, each hang's wait-for "
                    + "cycles (or analyze's dependency graph) drawn as graphs, a timeline of the tasks on the virtual clock, and "
                    + "the reports folded (see docs/REPORTS.md).")
    Path file;

    /** Whether {@code --html} was given. */
    boolean wanted() {
        return file != null;
    }

    /**
     * Refuses, before any work, a FILE that could not be written: a directory, in a directory that does
     * not exist, or not writable. A usage error naming the option and the path.
     */
    void check(CommandLine cmd) {
        if (file == null) {
            return;
        }
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new CommandLine.ParameterException(cmd, "--html: " + file + " is a directory; give a file name");
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cmd, "--html: the directory of " + file + " does not exist");
        }
        if (Files.exists(abs) ? !Files.isWritable(abs) : !Files.isWritable(dir)) {
            throw new CommandLine.ParameterException(cmd, "--html: " + file + " is not writable");
        }
    }

    /**
     * Writes {@code page} to FILE; says so on stderr. On an I/O error, prints it (naming the file) and
     * returns false, for an exit code of at least 1; the results on stdout stand.
     */
    boolean write(CommandLine cmd, HtmlReport page) {
        try {
            page.write(file);
            cmd.getErr().println("rescuer: wrote " + file);
            return true;
        } catch (IOException e) {
            cmd.getErr().println("rescuer: --html: could not write " + file + ": " + e.getMessage());
            return false;
        }
    }

    /** The command line as typed, for the page: {@code ./rescuer} and the arguments. */
    static String commandLine(CommandLine cmd) {
        CommandLine root = cmd;
        while (root.getParent() != null) {
            root = root.getParent();
        }
        return "./rescuer " + String.join(" ", root.getParseResult().originalArgs());
    }
}
