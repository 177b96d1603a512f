package dev.rescuer.storage.dm;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BioSet;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

import java.util.List;
import java.util.Objects;

/**
 * A device-mapper device ({@code struct mapped_device}, {@code drivers/md/dm.c}): a table of targets,
 * each covering a range of sectors, and the bio set its clones come from.
 *
 * <p><b>Submission</b> ({@code dm_submit_bio} → {@code dm_split_and_process_bio}). Each call maps one
 * piece: from the bio's first sector to the end of its target, or to the target's next
 * {@link Target#maxIoLen} boundary. If the bio is longer, the rest becomes a bio chained to it and is
 * resubmitted to this device with {@code submit_bio_noacct}, as the kernel trims and resubmits the
 * original, so one call never holds more than one clone from the device's bio set (the mempool rule).
 * The piece is cloned from the bio set with {@code GFP_NOIO} ({@code alloc_tio}) and given to the
 * target's {@code map}; {@link DmMapio#REMAPPED} submits the clone to its new device, {@code SUBMITTED}
 * leaves it to the target, {@code KILL} ends it with an I/O error ({@code __map_bio}). A flush is sent
 * to every target. When a clone ends ({@code clone_endio}), the target's {@code end_io} runs, the
 * clone is freed and the original (piece) ends with the clone's status.
 *
 * <p>Left out on purpose: suspend with its in-flight accounting, request-based dm, zoned devices,
 * {@code DM_MAPIO_REQUEUE} and {@code DM_ENDIO_INCOMPLETE}; the table is fixed at creation.
 */
public final class MappedDevice implements BlockDevice {

    /** Bios reserved in each device's bio set ({@code RESERVED_BIO_BASED_IOS}). */
    public static final int RESERVED_BIO_BASED_IOS = 16;

    /** One target and its place in the table. */
    record Slot(TargetContext ti, Target target) {
        long end() {
            return ti.begin() + ti.len();
        }
    }

    /** What dm core keeps per clone ({@code struct dm_target_io}): its target and the piece it serves. */
    private record Tio(Slot slot, Bio original) {
    }

    private final String name;
    private final Platform platform;
    private final List<Slot> table;
    private final long capacity;
    private final BioSet bs;

    MappedDevice(DeviceMapper dm, String name, List<Slot> table) {
        this.name = Objects.requireNonNull(name, "name");
        this.platform = dm.platform();
        this.table = List.copyOf(table);
        this.capacity = this.table.get(this.table.size() - 1).end();
        this.bs = new BioSet(dm.system().pages(), null, "dm-" + name, RESERVED_BIO_BASED_IOS, 0);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String driver() {
        return "dm";
    }

    @Override
    public long capacitySectors() {
        return capacity;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    /** The targets in table order. */
    public List<Target> targets() {
        return table.stream().map(Slot::target).toList();
    }

    /** The bio set clones come from. */
    public BioSet bioSet() {
        return bs;
    }

    void resume() {
        for (Slot s : table) {
            s.target().resume();
        }
    }

    @Override
    public void submitBio(Bio bio) {
        if (bio.op() == BioOp.FLUSH) {
            for (Slot s : table) { // __send_empty_flush: one clone per target
                mapClone(clone(bio, s, s.ti().begin(), 0));
            }
            bio.endio();
            return;
        }
        Slot slot = findTarget(bio.sector());
        if (slot == null) {
            bio.endio(BlkStatus.IOERR);
            return;
        }
        long len = Math.min(bio.sectors(), slot.end() - bio.sector());
        long max = slot.target().maxIoLen(slot.ti().targetOffset(bio.sector()));
        if (max > 0) {
            len = Math.min(len, max - slot.ti().targetOffset(bio.sector()) % max);
        }
        Bio rest = null;
        if (len < bio.sectors()) {
            rest = new Bio(bio.op(), bio.flags(), this, bio.sector() + len,
                    (int) (bio.sectors() - len) * Bio.SECTOR_SIZE, bio.pages(), null, bio.origin());
            if (bio.data() != null) {
                rest.setData(bio.data(), bio.dataOffset() + (int) len);
            }
            rest.chain(bio);
        }
        Bio clone = clone(bio, slot, bio.sector(), (int) len);
        bio.handTo(clone); // the piece ends when its clone does (clone_endio)
        mapClone(clone);
        if (rest != null) {
            BlockLayer.submitBioNoacct(rest);
        }
    }

    private Bio clone(Bio bio, Slot slot, long sector, int sectors) {
        Bio clone = bs.alloc(bio.op(), bio.flags(), this, sector, sectors * Bio.SECTOR_SIZE, this::cloneEndio,
                bio.origin(), Gfp.NOIO);
        if (bio.data() != null && sectors > 0) {
            clone.setData(bio.data(), bio.dataOffset() + (int) (sector - bio.sector()));
        }
        // A flush's clones each hold a reference on the original, as the kernel's dm_io does.
        Bio original = bio;
        if (bio.op() == BioOp.FLUSH) {
            original = new Bio(BioOp.FLUSH, bio.flags(), this, 0, 0, null, null, bio.origin());
            original.chain(bio);
        }
        clone.setPrivateData(new Tio(slot, original));
        return clone;
    }

    /** {@code __map_bio}. */
    private void mapClone(Bio clone) {
        Tio tio = (Tio) clone.privateData();
        bs.handOn(clone); // the target owns the clone now (__map_bio)
        switch (tio.slot().target().map(clone)) {
            case REMAPPED -> BlockLayer.submitBioNoacct(clone);
            case SUBMITTED -> { }
            case KILL -> clone.endio(BlkStatus.IOERR);
            default -> throw new IllegalStateException("unknown DM_MAPIO value");
        }
    }

    /** {@code clone_endio}: may run in interrupt context. */
    private void cloneEndio(Bio clone) {
        Tio tio = (Tio) clone.privateData();
        BlkStatus status = tio.slot().target().endIo(clone, clone.status());
        bs.free(clone);
        tio.original().endio(status);
    }

    private Slot findTarget(long sector) {
        for (Slot s : table) {
            if (sector >= s.ti().begin() && sector < s.end()) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "dm " + name;
    }
}
