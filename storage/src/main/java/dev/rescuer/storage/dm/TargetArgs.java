package dev.rescuer.storage.dm;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

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
    private final ToLongFunction<String> sizes;
    /** The devices the arguments named ({@link #deviceArg}), in order. */
    private final List<String> named = new ArrayList<>();

    /**
     * Arguments of a target of {@code type} at {@code [begin, begin + len)} of {@code device}, with
     * no device sizes known.
     *
     * @param exists whether a device of that name exists
     */
    public TargetArgs(String type, String device, long begin, long len, List<String> argv, Predicate<String> exists) {
        this(type, device, begin, len, argv, exists, name -> -1);
    }

    /**
     * Arguments of a target of {@code type} at {@code [begin, begin + len)} of {@code device}.
     *
     * @param exists whether a device of that name exists
     * @param sizes a device's size in sectors, or -1 if it is not known
     */
    public TargetArgs(String type, String device, long begin, long len, List<String> argv, Predicate<String> exists,
                      ToLongFunction<String> sizes) {
        this.type = Objects.requireNonNull(type, "type");
        this.device = Objects.requireNonNull(device, "device");
        this.begin = begin;
        this.len = len;
        this.argv = List.copyOf(argv);
        this.exists = Objects.requireNonNull(exists, "exists");
        this.sizes = Objects.requireNonNull(sizes, "sizes");
    }

    /** The devices named so far by {@link #deviceArg}, in order. */
    public List<String> devicesNamed() {
        return List.copyOf(named);
    }

    /** The size in sectors of device {@code name}, or -1 if it is not known (yet). */
    public long deviceSectors(String name) {
        return sizes.applyAsLong(name);
    }

    /**
     * Requires {@code [start, start + len)} to lie on device {@code dev}, where its size is known
     * ({@code device_area_is_invalid}, which dm core applies to every area a target maps, through
     * its {@code iterate_devices}, when the table is loaded), else fails with the kernel's text:
     * {@code <dev> too small for target: start=S, len=L, dev_size=D}.
     */
    public void requireArea(String dev, long start, long length) {
        long size = sizes.applyAsLong(dev);
        if (size > 0 && (start >= size || length > size - start)) {
            throw error(dev + " too small for target: start=" + start + ", len=" + length + ", dev_size=" + size);
        }
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
        named.add(name);
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
