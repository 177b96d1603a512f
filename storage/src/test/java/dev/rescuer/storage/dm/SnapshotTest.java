package dev.rescuer.storage.dm;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.dm.snapshot.DmSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dm-linear, snapshot-origin and snapshot on real threads: what each device reads after writes. */
class SnapshotTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(4096).build();

    @AfterEach
    void close() {
        sys.close();
    }

    private DeviceMapper dm(String throttle) {
        DeviceMapper dm = new DeviceMapper(sys, ModuleParams.of(Map.of("dm_snapshot",
                Map.of("cow_throttle", throttle, "snapshot_cow_threshold", "1"))));
        dm.addDevice(new Disk(sys.platform(), "sda", 1024, Duration.ofMillis(1), 4));
        dm.addDevice(new Disk(sys.platform(), "sdb", 1024, Duration.ofMillis(1), 4));
        dm.addDevice(new Disk(sys.platform(), "sdc", 1024, Duration.ofMillis(1), 4));
        return dm;
    }

    static long[] io(BlockDevice dev, BioOp op, long sector, long[] data) {
        Bio bio = new Bio(op, 0, dev, sector, data.length * Bio.SECTOR_SIZE, null, null, "test");
        bio.setData(data, 0);
        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(bio));
        return data;
    }

    static long[] fill(int n, long base) {
        long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = base + i;
        }
        return d;
    }

    @Test
    void linearRemapsByItsOffset() {
        DeviceMapper dm = dm("wait-unlocked");
        MappedDevice lin = dm.create("lin", "0 100 linear sda 200\n100 100 linear sdb 0");
        io(lin, BioOp.WRITE, 96, fill(8, 1000)); // crosses the two targets: split by dm core
        Disk sda = (Disk) dm.lookup("sda");
        Disk sdb = (Disk) dm.lookup("sdb");
        assertEquals(1000, sda.contentAt(296));
        assertEquals(1003, sda.contentAt(299));
        assertEquals(1004, sdb.contentAt(0));
        assertArrayEquals(fill(8, 1000), io(lin, BioOp.READ, 96, new long[8]));
    }

    @Test
    void snapshotKeepsTheOldDataWhileTheOriginChanges() {
        for (String throttle : new String[] {"semaphore", "wait-unlocked"}) {
            DeviceMapper dm = dm(throttle);
            io(dm.lookup("sda"), BioOp.WRITE, 0, fill(64, 1));
            MappedDevice base = dm.create("base", "0 1024 snapshot-origin sda");
            MappedDevice snap = dm.create("snap", "0 1024 snapshot sda sdb P 8");
            io(base, BioOp.WRITE, 4, fill(16, 500)); // chunks 0, 1 and 2 (partly)
            assertArrayEquals(fill(64, 1), io(snap, BioOp.READ, 0, new long[64]), throttle);
            long[] now = fill(64, 1);
            System.arraycopy(fill(16, 500), 0, now, 4, 16);
            assertArrayEquals(now, io(base, BioOp.READ, 0, new long[64]), throttle);
            io(snap, BioOp.WRITE, 40, fill(8, 9000)); // a write to the snapshot copies chunk 5 first
            long[] snapView = fill(64, 1);
            System.arraycopy(fill(8, 9000), 0, snapView, 40, 8);
            assertArrayEquals(snapView, io(snap, BioOp.READ, 0, new long[64]), throttle);
            DmSnapshot s = (DmSnapshot) snap.targets().get(0);
            assertEquals(4, s.exceptionChunks(), throttle);
            assertTrue(s.isValid());
        }
    }

    /**
     * {@code start_full_bio}: a write to the snapshot that covers a whole chunk is the chunk's new
     * content, so nothing is read from the origin; a partial write still copies the chunk first. The
     * exception is committed either way and the snapshot reads back what was written.
     */
    @Test
    void aWholeChunkWriteToTheSnapshotSkipsTheCopy() {
        DeviceMapper dm = dm("wait-unlocked");
        Disk sda = (Disk) dm.lookup("sda");
        io(sda, BioOp.WRITE, 0, fill(64, 1));
        MappedDevice snap = dm.create("snap", "0 1024 snapshot sda sdb P 8");
        DmSnapshot s = (DmSnapshot) snap.targets().get(0);
        long before = s.exceptionChunks();
        io(snap, BioOp.WRITE, 16, fill(8, 700)); // chunk 2, whole
        long[] view = fill(64, 1);
        System.arraycopy(fill(8, 700), 0, view, 16, 8);
        assertArrayEquals(view, io(snap, BioOp.READ, 0, new long[64]));
        assertEquals(before + 1, s.exceptionChunks());
        assertEquals(0, s.chunksCopied(), "a whole-chunk write copies nothing");
        io(snap, BioOp.WRITE, 33, fill(2, 900)); // chunk 4, partly: copied first
        System.arraycopy(fill(2, 900), 0, view, 33, 2);
        assertArrayEquals(view, io(snap, BioOp.READ, 0, new long[64]));
        assertEquals(1, s.chunksCopied());
        assertEquals(before + 2, s.exceptionChunks());
        assertTrue(s.isValid());
    }

    @Test
    void persistentStoreReadsBackItsExceptions() {
        DeviceMapper dm = dm("wait-unlocked");
        io(dm.lookup("sda"), BioOp.WRITE, 0, fill(32, 7));
        MappedDevice base = dm.create("base", "0 1024 snapshot-origin sda");
        dm.create("snap", "0 1024 snapshot sda sdb P 8");
        io(base, BioOp.WRITE, 8, fill(16, 100)); // chunks 1 and 2 copied
        // A second device-mapper instance on the same disks: the table is loaded again.
        DeviceMapper again = new DeviceMapper(sys, ModuleParams.defaults());
        again.addDevice(dm.lookup("sda"));
        again.addDevice(dm.lookup("sdb"));
        MappedDevice snap2 = again.create("snap2", "0 1024 snapshot sda sdb P 8");
        assertEquals(2, ((DmSnapshot) snap2.targets().get(0)).exceptionChunks());
        assertArrayEquals(fill(32, 7), io(snap2, BioOp.READ, 0, new long[32]));
    }

    @Test
    void tableErrorsAreTheKernels() {
        DeviceMapper dm = dm("wait-unlocked");
        assertEquals("snapshot: Cannot get COW device (no device sdz)",
                assertThrows(DmTargetException.class, () -> dm.create("s", "0 1024 snapshot sda sdz P 8")).getMessage());
        assertEquals("snapshot: requires 4 or more arguments",
                assertThrows(DmTargetException.class, () -> dm.create("s", "0 1024 snapshot sda sdb P")).getMessage());
        assertEquals("snapshot: COW device cannot be the same as origin device",
                assertThrows(DmTargetException.class, () -> dm.create("s", "0 1024 snapshot sda sda P 8")).getMessage());
        assertEquals("snapshot: Couldn't create exception store (Chunk size is not a power of 2)",
                assertThrows(DmTargetException.class, () -> dm.create("s", "0 1024 snapshot sda sdb P 24")).getMessage());
        assertEquals("linear: Invalid device sector",
                assertThrows(DmTargetException.class, () -> dm.create("l", "0 10 linear sda x")).getMessage());
        assertEquals("linear: Device lookup failed (l would be stacked on itself)",
                assertThrows(DmTargetException.class, () -> dm.create("l", "0 10 linear l 0")).getMessage());
        assertEquals("snapshot-origin: origin: incorrect number of arguments",
                assertThrows(DmTargetException.class, () -> dm.create("o", "0 10 snapshot-origin")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dm.create("o", "0 10 linear sda 0\n20 10 linear sda 0"))
                .getMessage().contains("Gap in table"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dm.create("o", "0 10 mirror sda 0"))
                .getMessage().startsWith("unknown target type 'mirror'"));
    }
}
