package dev.rescuer.storage.dm;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;

/**
 * {@code linear} ({@code drivers/md/dm-linear.c}): maps its range onto a device from a start sector.
 * Table arguments: {@code <device> <offset>}. {@code map} ({@code linear_map}) readdresses the clone
 * to the device at {@code offset + dm_target_offset}. Left out: zoned devices, DAX, the
 * {@code iterate_devices}/{@code prepare_ioctl} hooks.
 */
public final class LinearTarget implements Target {

    /** The parsed table arguments. */
    public record Args(String device, long start) {
    }

    /** The {@code linear} target type. */
    public static final TargetType<Args> TYPE = new TargetType<>() {
        @Override
        public String name() {
            return "linear";
        }

        @Override
        public Args parse(TargetArgs a) {
            a.requireArgc(2, 2, "Invalid argument count");
            long start = a.unsignedArg(1, "Invalid device sector");
            String dev = a.deviceArg(0, "Device lookup failed");
            a.requireArea(dev, start, a.len()); // linear_iterate_devices
            return new Args(dev, start);
        }

        @Override
        public Target construct(TargetContext ti, Args args) {
            return new LinearTarget(ti, ti.getDevice(args.device(), args.start() + ti.len(), "Device lookup failed"), args.start());
        }
    };

    private final TargetContext ti;
    private final BlockDevice dev;
    private final long start;

    private LinearTarget(TargetContext ti, BlockDevice dev, long start) {
        this.ti = ti;
        this.dev = dev;
        this.start = start;
    }

    /** {@code linear_map}. */
    @Override
    public DmMapio map(Bio clone) {
        clone.setDevice(dev);
        if (clone.sectors() > 0) {
            clone.setSector(start + ti.targetOffset(clone.sector()));
        } else {
            clone.setSector(0);
        }
        return DmMapio.REMAPPED;
    }
}
