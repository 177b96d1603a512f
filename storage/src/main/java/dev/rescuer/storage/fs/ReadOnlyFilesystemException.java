package dev.rescuer.storage.fs;

/** A change was asked of a filesystem mounted read-only ({@code -EROFS}). */
public final class ReadOnlyFilesystemException extends RuntimeException {

    /** {@code what} was refused on the read-only mount {@code fs}. */
    public ReadOnlyFilesystemException(String fs, String what) {
        super(what + ": " + fs + " is mounted read-only (EROFS)");
    }
}
