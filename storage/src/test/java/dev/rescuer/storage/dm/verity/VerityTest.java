package dev.rescuer.storage.dm.verity;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.AtomicContextException;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WqFlag;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.DmTargetException;
import dev.rescuer.storage.dm.MappedDevice;
import dev.rescuer.storage.dm.ModuleParams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dm-verity on real threads: verification, corruption, the BH path and its fallback, table errors. */
class VerityTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(4096).build();
    private final DeviceMapper dm = new DeviceMapper(sys, ModuleParams.defaults());
    private final Disk data = new Disk(sys.platform(), "sda", 512, Duration.ofMillis(1), 8);
    private final Disk hash = new Disk(sys.platform(), "sdb", 512, Duration.ofMillis(1), 8);

    VerityTest() {
        dm.addDevice(data);
        dm.addDevice(hash);
    }

    @AfterEach
    void close() {
        sys.close();
    }

    private static long[] io(BlockDevice dev, BioOp op, long sector, long[] buf, BlkStatus expect) {
        Bio bio = new Bio(op, 0, dev, sector, buf.length * Bio.SECTOR_SIZE, null, null, "test");
        bio.setData(buf, 0);
        assertEquals(expect, BlockLayer.submitBioWait(bio));
        return buf;
    }

    /** 64 data blocks of 4 KiB: 8 hashes per hash block, so 8 level-0 blocks and a root block. */
    private MappedDevice verity(String opts) {
        long[] content = new long[512];
        for (int i = 0; i < content.length; i++) {
            content[i] = 7 * i + 3;
        }
        io(data, BioOp.WRITE, 0, content, BlkStatus.OK);
        long root = VeritySetup.format(data, hash, 4096, 4096, 64, 0, 0x5a17L);
        return dm.create("vroot", "0 512 verity 1 sda sdb 4096 4096 64 0 sha256 " + VerityTarget.hex(root) + " "
                + VerityTarget.hex(0x5a17L) + opts);
    }

    @Test
    void readsOfIntactDataSucceedAndCorruptedDataFails() {
        MappedDevice v = verity("");
        long[] got = io(v, BioOp.READ, 8, new long[16], BlkStatus.OK);
        assertEquals(7 * 8 + 3, got[0]);
        io(v, BioOp.WRITE, 0, new long[8], BlkStatus.IOERR); // read-only: verity_map kills writes
        io(v, BioOp.READ, 3, new long[8], BlkStatus.IOERR);  // unaligned
        io(data, BioOp.WRITE, 100, new long[] {1}, BlkStatus.OK); // corrupt one sector of block 12
        io(v, BioOp.READ, 96, new long[8], BlkStatus.IOERR);
        io(v, BioOp.READ, 104, new long[8], BlkStatus.OK);
        VerityTarget t = (VerityTarget) v.targets().get(0);
        assertTrue(t.verifyWorkqueue().flags().containsAll(java.util.Set.of(WqFlag.MEM_RECLAIM, WqFlag.HIGHPRI)));
    }

    @Test
    void withNoFreeMemoryReadsVerifyThroughTheReservedBuffer() {
        MappedDevice v = verity("");
        java.util.List<dev.rescuer.core.mm.Pages> taken = new java.util.ArrayList<>();
        try {
            for (dev.rescuer.core.mm.Pages p; (p = sys.pages().tryAllocate(1, dev.rescuer.core.mm.Gfp.KERNEL)) != null; ) {
                taken.add(p);
            }
            assertEquals(null, sys.pages().tryAllocate(1, dev.rescuer.core.mm.Gfp.NOIO.with(dev.rescuer.core.mm.Gfp.Modifier.NORETRY)),
                    "dm-bufio's own allocation (GFP_NOIO | __GFP_NORETRY) must fail");
            long[] got = io(v, BioOp.READ, 16, new long[8], BlkStatus.OK); // root and a level-0 block, one at a time
            assertEquals(7 * 16 + 3, got[0]);
            io(v, BioOp.READ, 64, new long[8], BlkStatus.OK); // another level-0 block reuses an unheld buffer
        } finally {
            taken.forEach(dev.rescuer.core.mm.Pages::free);
        }
    }

    @Test
    void aCorruptedHashBlockFails() {
        MappedDevice v = verity("");
        io(hash, BioOp.WRITE, 8 + 2, new long[] {42}, BlkStatus.OK); // level 0, block 0 (after the root block)
        io(v, BioOp.READ, 0, new long[8], BlkStatus.IOERR);
    }

    @Test
    void inTaskletModeCachedHashesVerifyInBhAndAMissFallsBackToKverityd() {
        MappedDevice v = verity(" 1 try_verify_in_tasklet");
        VerityTarget t = (VerityTarget) v.targets().get(0);
        io(v, BioOp.READ, 0, new long[8], BlkStatus.OK);
        assertEquals(1, t.fellBackToWorkqueue(), "nothing cached: BH returns -EAGAIN, kverityd reads the hashes");
        assertEquals(0, t.verifiedInBh());
        long[] again = io(v, BioOp.READ, 8, new long[8], BlkStatus.OK); // same level-0 hash block, now cached
        assertEquals(7 * 8 + 3, again[0]);
        assertEquals(1, t.verifiedInBh());
        assertEquals(1, t.fellBackToWorkqueue());
    }

    @Test
    void sleepingOnTheBhPathIsCaught() {
        MappedDevice v = verity(" 1 try_verify_in_tasklet");
        VerityTarget t = (VerityTarget) v.targets().get(0);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Completion done = new Completion(sys.platform(), "bh done");
        sys.workqueues().systemBhWq().queue(new Work("bh read", () -> {
            try {
                t.bufio().read(0); // dm_bufio_read may sleep: not allowed in BH
            } catch (Throwable e) {
                thrown.set(e);
            }
            done.complete();
        }));
        done.waitFor();
        assertInstanceOf(AtomicContextException.class, thrown.get());
    }

    @Test
    void tableErrorsAreTheKernels() {
        assertEquals("verity: Not enough arguments",
                assertThrows(DmTargetException.class, () -> dm.create("v", "0 512 verity 1 sda sdb 4096 4096 64 0")).getMessage());
        assertEquals("verity: Hash device lookup failed (no device sdz)", assertThrows(DmTargetException.class,
                () -> dm.create("v", "0 512 verity 1 sda sdz 4096 4096 64 0 sha256 0000000000000000 -")).getMessage());
        assertEquals("verity: Invalid data device block size", assertThrows(DmTargetException.class,
                () -> dm.create("v", "0 512 verity 1 sda sdb 3000 4096 64 0 sha256 0000000000000000 -")).getMessage());
        assertEquals("verity: Data device is too small", assertThrows(DmTargetException.class,
                () -> dm.create("v", "0 512 verity 1 sda sdb 4096 4096 8 0 sha256 0000000000000000 -")).getMessage());
        assertEquals("verity: Unrecognized verity feature request", assertThrows(DmTargetException.class,
                () -> dm.create("v", "0 512 verity 1 sda sdb 4096 4096 64 0 sha256 0000000000000000 - 1 restart_on_corruption")).getMessage());
        MappedDevice v = dm.create("v2", "0 512 verity 1 sda sdb 4096 4096 64 0 sha256 0000000000000000 - 1 kverityd_flags=highpri");
        assertTrue(!((VerityTarget) v.targets().get(0)).verifyWorkqueue().flags().contains(WqFlag.MEM_RECLAIM));
    }
}
