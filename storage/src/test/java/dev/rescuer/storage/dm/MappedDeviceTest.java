package dev.rescuer.storage.dm;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** dm core: __map_bio's three outcomes, max_io_len splitting, clone_endio's hook, the bio set's accounting. */
class MappedDeviceTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(2048).build();
    private final DeviceMapper dm = new DeviceMapper(sys, ModuleParams.defaults());
    private final List<String> seen = new ArrayList<>();

    @AfterEach
    void close() {
        sys.close();
    }

    /** A test target: {@code probe <device> <remap|kill|hold> <max_io_len>}. */
    private final TargetType<List<String>> probe = new TargetType<>() {
        @Override
        public String name() {
            return "probe";
        }

        @Override
        public List<String> parse(TargetArgs a) {
            a.requireArgc(3, 3, "Invalid argument count");
            a.deviceArg(0, "Device lookup failed");
            a.unsignedArg(2, "Invalid max_io_len");
            return List.of(a.arg(0), a.arg(1), a.arg(2));
        }

        @Override
        public Target construct(TargetContext ti, List<String> args) {
            var dev = ti.getDevice(args.get(0), ti.len(), "Device lookup failed");
            long max = Long.parseLong(args.get(2));
            return new Target() {
                private final List<Bio> held = new ArrayList<>();

                @Override
                public DmMapio map(Bio clone) {
                    seen.add("map " + ti.targetOffset(clone.sector()) + "+" + clone.sectors());
                    switch (args.get(1)) {
                        case "kill":
                            return DmMapio.KILL;
                        case "hold": // SUBMITTED: the target ends the clone itself, here at once with its own status
                            clone.endio(BlkStatus.RESOURCE);
                            return DmMapio.SUBMITTED;
                        default:
                            clone.setDevice(dev);
                            clone.setSector(ti.targetOffset(clone.sector()));
                            return DmMapio.REMAPPED;
                    }
                }

                @Override
                public BlkStatus endIo(Bio clone, BlkStatus status) {
                    seen.add("end_io " + status);
                    return status;
                }

                @Override
                public long maxIoLen(long offset) {
                    return max;
                }
            };
        }
    };

    private BlkStatus write(MappedDevice md, long sector, int sectors) {
        Bio bio = new Bio(BioOp.WRITE, 0, md, sector, sectors * Bio.SECTOR_SIZE, null, null, "test");
        bio.setData(new long[sectors], 0);
        return BlockLayer.submitBioWait(bio);
    }

    @Test
    void remappedClonesAreSplitAtMaxIoLenAndEndThroughTheTargetsHook() {
        dm.registerTarget(probe);
        dm.addDevice(new Disk(sys.platform(), "sda", 256, Duration.ofMillis(1), 4));
        MappedDevice md = dm.create("p", "0 256 probe sda remap 8");
        assertEquals(BlkStatus.OK, write(md, 4, 16));
        assertEquals(List.of("map 4+4", "map 8+8", "map 16+4", "end_io OK", "end_io OK", "end_io OK"), sortedEnds(seen));
        assertEquals(0, md.bioSet().outstanding(), "every clone went back to the bio set");
    }

    @Test
    void killAndSubmittedEndTheOriginalWithTheClonesStatus() {
        dm.registerTarget(probe);
        dm.addDevice(new Disk(sys.platform(), "sda", 256, Duration.ofMillis(1), 4));
        assertEquals(BlkStatus.IOERR, write(dm.create("k", "0 256 probe sda kill 0"), 0, 8));
        assertEquals(BlkStatus.RESOURCE, write(dm.create("h", "0 256 probe sda hold 0"), 0, 8));
        assertEquals(List.of("map 0+8", "end_io IOERR", "map 0+8", "end_io RESOURCE"), seen);
        assertThrows(IllegalArgumentException.class, () -> dm.registerTarget(probe), "registered twice");
    }

    /** The maps in order, then the end-ios (they come from the disk's interrupts, in any order). */
    private static List<String> sortedEnds(List<String> events) {
        List<String> maps = new ArrayList<>(events.stream().filter(e -> e.startsWith("map")).toList());
        maps.addAll(events.stream().filter(e -> !e.startsWith("map")).sorted().toList());
        return maps;
    }
}
