package dev.rescuer.storage.stack;

import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * What a kind's {@code check} works with: the block devices the stack defines (statically or during
 * the workload), its filesystems, and errors that carry the entry's file, line and column.
 */
public final class StackCheck {

    private final String path;
    private final Set<String> devices;
    private final Set<String> filesystems;
    /** Every device entry defined before this one (all of them, for a workload entry), bound, by name. */
    private final Map<String, Object> entries;
    private final BiFunction<String, String, StackFileException> errors;

    StackCheck(String path, Set<String> devices, Set<String> filesystems, Map<String, Object> entries,
               BiFunction<String, String, StackFileException> errors) {
        this.path = path;
        this.devices = devices;
        this.filesystems = filesystems;
        this.entries = entries;
        this.errors = errors;
    }

    /** Whether a device called {@code name} is defined. */
    public boolean deviceExists(String name) {
        return devices.contains(name);
    }

    /** Every defined device name. */
    public Set<String> devices() {
        return devices;
    }

    /** A refusal located at key {@code key} of the entry (or the entry itself for {@code null}). */
    public StackFileException error(String key, String message) {
        return errors.apply(key == null ? path : Locations.child(path, key), message);
    }

    /** Requires {@code value} (the entry's {@code key}) to be present. */
    public void require(Object value, String key) {
        if (value == null) {
            throw error(null, "missing key '" + key + "'");
        }
    }

    /**
     * Requires key {@code key} to name a defined device other than {@code self}.
     */
    public void requireDevice(String device, String key, String self) {
        require(device, key);
        if (device.equals(self)) {
            throw error(key, "device " + self + " cannot be stacked on itself");
        }
        if (!devices.contains(device)) {
            throw error(key, "no device '" + device + "'; devices: " + String.join(", ", new java.util.TreeSet<>(devices)));
        }
    }

    /** The bound configuration of the device entry called {@code name} defined so far, or {@code null}. */
    Object entry(String name) {
        return entries.get(name);
    }

    /**
     * Requires key {@code key} to name a device entry of the kind whose configuration is {@code type}
     * ({@code what} names that kind in the message), and returns that entry's bound configuration.
     */
    public <C> C requireEntry(String name, String key, Class<C> type, String what) {
        require(name, key);
        Object c = entries.get(name);
        if (!type.isInstance(c)) {
            java.util.TreeSet<String> those = new java.util.TreeSet<>();
            entries.forEach((n, e) -> {
                if (type.isInstance(e)) {
                    those.add(n);
                }
            });
            throw error(key, "no " + what + " '" + name + "'; " + what + "s: " + (those.isEmpty() ? "none" : String.join(", ", those)));
        }
        return type.cast(c);
    }

    /** Requires key {@code key} to name a filesystem entry ({@code kind: filesystem}). */
    public void requireFilesystem(String fs, String key) {
        require(fs, key);
        if (!filesystems.contains(fs)) {
            throw error(key, "no filesystem '" + fs + "'; filesystems: "
                    + (filesystems.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(filesystems))));
        }
    }
}
