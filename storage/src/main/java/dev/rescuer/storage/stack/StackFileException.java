package dev.rescuer.storage.stack;

/**
 * A stack file was refused: the message names the file, the line and column of the offending key or
 * value, and the problem ({@code s1.yaml:12:7: unknown key 'latncy' in devices[0]; known keys: ...}).
 */
public final class StackFileException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final int column;

    /** A refusal of {@code file} at {@code line}:{@code column} (1-based; 0 when unknown). */
    public StackFileException(String file, int line, int column, String message) {
        super(file + (line > 0 ? ":" + line + ":" + column : "") + ": " + message);
        this.file = file;
        this.line = line;
        this.column = column;
    }

    /** The file's name as given. */
    public String file() {
        return file;
    }

    /** The 1-based line, or 0. */
    public int line() {
        return line;
    }

    /** The 1-based column, or 0. */
    public int column() {
        return column;
    }
}
