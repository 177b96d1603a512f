package dev.rescuer.storage.fs;

import java.util.Locale;

/**
 * How a {@link JournalFs} is mounted: the options a user passes to {@code mount -o}.
 *
 * @param readOnly {@code ro}: no journal, no writes; every change is refused with
 *     {@link ReadOnlyFilesystemException}. {@code rw}: the journal runs and files may change.
 */
public record MountOptions(boolean readOnly) {

    /** {@code rw}. */
    public static final MountOptions READ_WRITE = new MountOptions(false);
    /** {@code ro}. */
    public static final MountOptions READ_ONLY = new MountOptions(true);

    /**
     * Parses a {@code mount -o} string: comma-separated, {@code ro} or {@code rw} (the last wins, as
     * in {@code mount}); empty means {@code rw}.
     *
     * @throws IllegalArgumentException naming the option that is not understood
     */
    public static MountOptions parse(String options) {
        boolean ro = false;
        if (options == null || options.isBlank()) {
            return READ_WRITE;
        }
        for (String raw : options.split(",", -1)) {
            String o = raw.trim().toLowerCase(Locale.ROOT);
            switch (o) {
                case "ro":
                    ro = true;
                    break;
                case "rw":
                    ro = false;
                    break;
                default:
                    throw new IllegalArgumentException("mount option '" + raw.trim() + "' in \"" + options
                            + "\" is not understood; the model knows ro and rw");
            }
        }
        return ro ? READ_ONLY : READ_WRITE;
    }

    @Override
    public String toString() {
        return readOnly ? "ro" : "rw";
    }
}
