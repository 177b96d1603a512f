package dev.rescuer.storage.dm;

import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A table line's arguments for one target, with what a constructor needs to check them: the names of
 * the devices that exist, and the name of the device being defined (a target may not stack a device
 * on itself). Each helper throws a {@link DmTargetException} carrying the error text the caller gives,
 * in the kernel's words.
 */
public final class TargetArgs {

    private final String type;
    private final String device;
    private final long begin;
    private final long len;
    private final List<String> argv;
    private final Predicate<String> exists;

    /**
     * Arguments of a target of {@code type} at {@code [begin, begin + len)} of {@code device}.
     *
     * @param exists whether a device of that name exists
     */
    public TargetArgs(String type, String device, long begin, long len, List<String> argv, Predicate<String> exists) {
        this.type = Objects.requireNonNull(type, "type");
        this.device = Objects.requireNonNull(device, "device");
        this.begin = begin;
        this.len = len;
        this.argv = List.copyOf(argv);
        this.exists = Objects.requireNonNull(exists, "exists");
    }

    /** The number of arguments ({@code argc}). */
    public int argc() {
        return argv.size();
    }

    /** Argument {@code i}. */
    public String arg(int i) {
        return argv.get(i);
    }

    /** The target's length in sectors ({@code ti->len}). */
    public long len() {
        return len;
    }

    /** The target's first sector in the mapped device ({@code ti->begin}). */
    public long begin() {
        return begin;
    }

    /** The name of the mapped device being defined. */
    public String device() {
        return device;
    }

    /** A refusal with the kernel's {@code ti->error} text. */
    public DmTargetException error(String tiError) {
        return new DmTargetException(type, tiError);
    }

    /** Requires {@code argc} to be in {@code [min, max]}, else fails with {@code tiError}. */
    public void requireArgc(int min, int max, String tiError) {
        if (argv.size() < min || argv.size() > max) {
            throw error(tiError);
        }
    }

    /**
     * Argument {@code i} as a device name ({@code dm_get_device}): it must name an existing device other
     * than the one being defined, else fails with {@code tiError} and the reason.
     */
    public String deviceArg(int i, String tiError) {
        String name = argv.get(i);
        if (name.equals(device)) {
            throw error(tiError + " (" + name + " would be stacked on itself)");
        }
        if (!exists.test(name)) {
            throw error(tiError + " (no device " + name + ")");
        }
        return name;
    }

    /** Argument {@code i} as an unsigned number ({@code sscanf("%llu")}), else fails with {@code tiError}. */
    public long unsignedArg(int i, String tiError) {
        String s = argv.get(i);
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw error(tiError);
            }
            return v;
        } catch (NumberFormatException e) {
            throw error(tiError);
        }
    }
}
