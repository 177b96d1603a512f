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
    /** The size in sectors of every block device whose size the file fixes, by name. */
    private final Map<String, Long> sizes;
    /** Who holds each block device open exclusively so far, by device name; shared by the whole stack's checks. */
    private final Map<String, Holder> claims;
    /** Settings of the whole stack that an entry's check may need (memory). */
    private final Machine machine;

    /**
     * Who holds a block device open exclusively ({@code bd_claim}: {@code bdev_open} with a holder).
     *
     * @param holder the holder: one for all of device-mapper, else the filesystem, array or swap area
     * @param what the entry that claimed it, for the message ({@code filesystem fs (devices[1])})
     */
    record Holder(String holder, String what) {
    }

    /** What every entry may be checked against: total pages of memory. */
    record Machine(long pages) {
    }

    StackCheck(String path, Set<String> devices, Set<String> filesystems, Map<String, Object> entries,
               BiFunction<String, String, StackFileException> errors) {
        this(path, devices, filesystems, entries, errors, Map.of(), new java.util.HashMap<>(), new Machine(4096));
    }

    StackCheck(String path, Set<String> devices, Set<String> filesystems, Map<String, Object> entries,
               BiFunction<String, String, StackFileException> errors, Map<String, Long> sizes, Map<String, Holder> claims,
               Machine machine) {
        this.path = path;
        this.devices = devices;
        this.filesystems = filesystems;
        this.entries = entries;
        this.errors = errors;
        this.sizes = sizes;
        this.claims = claims;
        this.machine = machine;
    }

    /** The entry's path ({@code devices[2]}). */
    String path() {
        return path;
    }

    /**
     * The size in sectors of block device {@code name} where the file fixes it (a disk's
     * {@code sectors}, a table's length, a loop device's file, an array's members), else {@code null}
     * (a device created while the workload runs).
     */
    public Long sectors(String name) {
        return name == null ? null : sizes.get(name);
    }

    /** The machine's total pages ({@code system.memory.pages}, default 4096). */
    public long memoryPages() {
        return machine.pages();
    }

    /**
     * Opens {@code device} exclusively for {@code holder} ({@code bdev_open} with a holder,
     * {@code bd_may_claim}): a device already held by another holder is busy ({@code -EBUSY}), refused
     * at key {@code key}. The same holder may claim a device again (every dm table has one holder,
     * {@code _dm_claim_ptr}, so two tables may share a device, as a snapshot and its origin do).
     *
     * @param what the claiming entry for the message ({@code filesystem fs})
     */
    public void claim(String key, String device, String holder, String what) {
        Holder h = claims.get(device);
        if (h != null && !h.holder().equals(holder)) {
            throw error(key, "device " + device + " is busy (EBUSY): " + h.what() + " holds it open exclusively, so "
                    + what + " cannot open it (bd_may_claim); a block device has one exclusive holder");
        }
        if (h == null) {
            claims.put(device, new Holder(holder, what + " (" + path + ")"));
        }
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
