package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.dm.DmMapio;
import dev.rescuer.storage.dm.Target;
import dev.rescuer.storage.dm.TargetArgs;
import dev.rescuer.storage.dm.TargetContext;
import dev.rescuer.storage.dm.TargetType;

/**
 * The {@code snapshot-origin} target ({@code origin_ctr}, {@code origin_map} in {@code dm-snap.c}).
 * Table argument: {@code <origin device>}. Reads and flushes go straight to the device; a write is
 * split at the smallest chunk size of the origin's snapshots ({@code o->split_boundary}) and goes
 * through {@code do_origin(limit=true)}, which may hold it until the chunk has been copied to every
 * snapshot. Left out: the {@code dm_origin} registry used by snapshot merging, and suspend/resume of
 * the origin (the split boundary is read at each write instead of at resume).
 */
public final class OriginTarget implements Target {

    /** The {@code snapshot-origin} target type. */
    public static final TargetType<String> TYPE = new TargetType<>() {
            @Override
            public String name() {
                return "snapshot-origin";
            }

            @Override
            public String parse(TargetArgs a) {
                a.requireArgc(1, 1, "origin: incorrect number of arguments");
                String dev = a.deviceArg(0, "Cannot get target device");
                a.requireArea(dev, 0, a.len()); // origin_iterate_devices
                return dev;
            }

            @Override
            public Target construct(TargetContext ti, String device) {
                return new OriginTarget(ti.dm().snapshotModule(), ti, ti.getDevice(device, ti.len(), "Cannot get target device"));
            }
        };

    private final SnapshotModule module;
    private final TargetContext ti;
    private final BlockDevice dev;

    private OriginTarget(SnapshotModule module, TargetContext ti, BlockDevice dev) {
        this.module = module;
        this.ti = ti;
        this.dev = dev;
        String pending = SnapshotModule.pendingExceptionsPoint(dev.name());
        module.dm().waitGraph().node(pending, WaitGraph.NodeKind.POINT);
        module.dm().waitGraph().waitsOn(ti.deviceName(), pending,
                "origin_map -> do_origin: a write waits for every snapshot's copy of the chunk");
    }

    @Override
    public long maxIoLen(long offset) {
        return module.splitBoundary(dev);
    }

    /** {@code origin_map}. */
    @Override
    public DmMapio map(Bio bio) {
        bio.setDevice(dev);
        if (bio.op() == BioOp.FLUSH) {
            bio.setSector(0);
            return DmMapio.REMAPPED;
        }
        bio.setSector(ti.targetOffset(bio.sector()));
        if (bio.op() != BioOp.WRITE) {
            return DmMapio.REMAPPED;
        }
        return module.doOrigin(dev, bio, true);
    }
}
