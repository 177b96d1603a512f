package dev.rescuer.cli;

import dev.rescuer.cli.html.HtmlReport;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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
     * not exist, not writable, or refused when opened (procfs, a read-only mount). A usage error naming
     * the option, the path and the reason. A FILE that did not exist is not left behind.
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
        // Permission bits do not tell (root may write anything, and /proc or a read-only mount still
        // refuses): open it the way the page will be written, without truncating what is there.
        boolean existed = Files.exists(abs);
        try (var out = Files.newOutputStream(abs, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            // opened: the page can be written here
        } catch (IOException e) {
            throw new CommandLine.ParameterException(cmd, "--html: " + file + " cannot be written: " + reason(e));
        }
        if (!existed) {
            try {
                Files.deleteIfExists(abs); // leave nothing behind if the command is refused later
            } catch (IOException e) {
                throw new CommandLine.ParameterException(cmd, "--html: " + file + " was created but cannot be removed: " + reason(e));
            }
        }
    }

    /** What went wrong with the file, in words: the exception's message names only the path for some kinds. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
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
            cmd.getErr().println("rescuer: --html: could not write " + file + ": " + reason(e));
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
