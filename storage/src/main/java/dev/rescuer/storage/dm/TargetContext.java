package dev.rescuer.storage.dm;

import dev.rescuer.storage.block.BlockDevice;

import java.util.Objects;

/**
 * What a target's constructor and the target itself know about their place ({@code struct dm_target}):
 * the mapped device's name, the target's range, and the device-mapper instance to look devices up in
 * and to take shared state from.
 */
public final class TargetContext {

    private final DeviceMapper dm;
    private final String device;
    private final String type;
    private final long begin;
    private final long len;

    TargetContext(DeviceMapper dm, String device, String type, long begin, long len) {
        this.dm = Objects.requireNonNull(dm, "dm");
        this.device = device;
        this.type = type;
        this.begin = begin;
        this.len = len;
    }

    /** The device-mapper instance (the system's). */
    public DeviceMapper dm() {
        return dm;
    }

    /** The mapped device's name. */
    public String deviceName() {
        return device;
    }

    /** First sector of the target in the mapped device ({@code ti->begin}). */
    public long begin() {
        return begin;
    }

    /** Length in sectors ({@code ti->len}). */
    public long len() {
        return len;
    }

    /** A mapped-device sector as an offset into the target ({@code dm_target_offset}). */
    public long targetOffset(long sector) {
        return sector - begin;
    }

    /**
     * The device named {@code name} ({@code dm_get_device}), which must be at least {@code minSectors}
     * long.
     *
     * @throws DmTargetException with {@code tiError} if it does not exist or is too small
     */
    public BlockDevice getDevice(String name, long minSectors, String tiError) {
        BlockDevice d = dm.lookup(name);
        if (d == null) {
            throw new DmTargetException(type, tiError + " (no device " + name + ")");
        }
        if (d.capacitySectors() < minSectors) {
            throw new DmTargetException(type, tiError + " (" + name + " has " + d.capacitySectors()
                    + " sectors, the target needs " + minSectors + ")");
        }
        dm.waitGraph().waitsOn(device, name, type + " maps to " + name + " (dm_get_device)");
        return d;
    }
}
