package dev.rescuer.storage.dm.crypt;

import dev.rescuer.core.RescuerSystem;
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
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** dm-crypt on real threads: the write and read paths, the queues' flags, the page pool, table errors. */
class CryptTest {

    private static final String KEY = "00112233445566778899aabbccddeeff";

    private RescuerSystem sys = RescuerSystem.builder().totalPages(4096).build();
    private DeviceMapper dm;
    private Disk disk;

    private void setUp(RescuerSystem system, String allocBuffer) {
        sys = system;
        dm = new DeviceMapper(sys, ModuleParams.of(Map.of("dm_crypt", Map.of("alloc_buffer", allocBuffer))));
        disk = new Disk(sys.platform(), "sda", 1024, Duration.ofMillis(1), 8);
        dm.addDevice(disk);
    }

    @AfterEach
    void close() {
        sys.close();
    }

    private static long[] io(BlockDevice dev, BioOp op, long sector, long[] buf) {
        Bio bio = new Bio(op, 0, dev, sector, buf.length * Bio.SECTOR_SIZE, null, null, "test");
        bio.setData(buf, 0);
        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(bio));
        return buf;
    }

    private static long[] pattern(int n, long base) {
        long[] d = new long[n];
        for (int i = 0; i < n; i++) {
            d[i] = base + 11L * i;
        }
        return d;
    }

    private CryptTarget crypt(MappedDevice d) {
        return (CryptTarget) d.targets().get(0);
    }

    @Test
    void writesReachTheDiskEncryptedAndReadBackDecrypted() {
        setUp(sys, "serialised");
        MappedDevice c = dm.create("cr", "0 512 crypt aes-xts-plain64 " + KEY + " 0 sda 64");
        long[] plain = pattern(32, 1000); // four pages: dm core splits it into BIO_MAX_VECS-page pieces
        io(c, BioOp.WRITE, 8, plain.clone());
        for (int s = 0; s < plain.length; s++) {
            assertNotEquals(plain[s], disk.contentAt(64 + 8 + s), "sector " + s + " reached the disk in clear");
        }
        assertEquals(0, disk.contentAt(8), "the target's offset (64) is honoured");
        long[] back = io(c, BioOp.READ, 8, new long[32]);
        assertEquals(java.util.Arrays.toString(plain), java.util.Arrays.toString(back));
        CryptTarget t = crypt(c);
        assertEquals(CryptTarget.BIO_MAX_VECS, t.pagePool().reserved(), "every buffer page came back to the pool");
        assertEquals(0, t.pagePool().outstanding());
    }

    @Test
    void theQueuesHaveTheKernelsFlagsAndTheTableOptionsChangeThem() {
        setUp(sys, "serialised");
        CryptTarget def = crypt(dm.create("c0", "0 64 crypt aes-xts-plain64 " + KEY + " 0 sda 0"));
        assertEquals(Set.of(WqFlag.MEM_RECLAIM, WqFlag.CPU_INTENSIVE, WqFlag.UNBOUND), def.cryptQueue().flags());
        assertEquals(sys.workqueues().cpus(), def.cryptQueue().maxActive());
        assertEquals(Set.of(WqFlag.MEM_RECLAIM), def.ioQueue().flags());
        assertEquals(1, def.ioQueue().maxActive());
        CryptTarget same = crypt(dm.create("c1", "0 64 crypt aes-xts-plain64 " + KEY + " 0 sda 64 2 same_cpu_crypt high_priority"));
        assertEquals(Set.of(WqFlag.MEM_RECLAIM, WqFlag.CPU_INTENSIVE, WqFlag.HIGHPRI), same.cryptQueue().flags());
        assertEquals(1, same.cryptQueue().maxActive());
        assertEquals(Set.of(WqFlag.MEM_RECLAIM, WqFlag.HIGHPRI), same.ioQueue().flags());
    }

    @Test
    void noWorkqueueOptionsStillEncryptAndDecrypt() {
        setUp(sys, "serialised");
        MappedDevice c = dm.create("cr", "0 512 crypt aes-cbc-essiv:sha256 " + KEY + " 0 sda 0 2 no_read_workqueue no_write_workqueue");
        long[] plain = pattern(16, 7);
        io(c, BioOp.WRITE, 0, plain.clone());
        assertNotEquals(plain[0], disk.contentAt(0));
        assertEquals(java.util.Arrays.toString(plain), java.util.Arrays.toString(io(c, BioOp.READ, 0, new long[16])));
    }

    /**
     * Memory at the min watermark once the pool is filled: crypt_page_alloc always fails, so every
     * buffer page comes from the pool's reserve and the NOWAIT attempt fails whenever the reserve
     * is short; the request then takes bio_alloc_lock and waits on the pool.
     */
    @Test
    void underMemoryExhaustionEveryWriteIsServedFromTheReserveUnderTheLock() {
        RescuerSystem tight = RescuerSystem.builder().totalPages(132).watermarks(110, 110, 111).pagesPerThread(0).build();
        sys.close();
        setUp(tight, "serialised");
        MappedDevice c = dm.create("cr", "0 512 crypt aes-xts-plain64 " + KEY + " 0 sda 0");
        CryptTarget t = crypt(c);
        assertEquals(sys.pages().minWatermark(), sys.pages().freePages(), "the test needs memory at its min watermark");
        for (int i = 0; i < 4; i++) {
            io(c, BioOp.WRITE, 16L * i, pattern(16, i));
        }
        assertEquals(CryptTarget.BIO_MAX_VECS, t.pagePool().reserved());
        assertEquals(CryptTarget.DM_CRYPT_MIN_PAGES_PER_CLIENT, t.pagesPerClient());
        assertEquals(java.util.Arrays.toString(pattern(16, 3)), java.util.Arrays.toString(io(c, BioOp.READ, 48, new long[16])));
    }

    @Test
    void tableErrorsUseTheKernelsTexts() {
        setUp(sys, "serialised");
        Map<String, String> bad = Map.of(
                "aes-xts-plain64 " + KEY + " 0 sda", "Not enough arguments",
                "aes " + KEY + " 0 sda 0", "Bad cipher specification",
                "aes-xts-plain64 abc 0 sda 0", "Error decoding and setting key",
                "aes-xts-plain64 " + KEY + " x sda 0", "Invalid iv_offset sector",
                "aes-xts-plain64 " + KEY + " 0 sdz 0", "Device lookup failed (no device sdz)",
                "aes-xts-plain64 " + KEY + " 0 sda -1", "Invalid device sector",
                "aes-xts-plain64 " + KEY + " 0 sda 0 2 same_cpu_crypt", "Invalid number of feature args",
                "aes-xts-plain64 " + KEY + " 0 sda 0 1 fast", "Invalid feature arguments (fast)");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            DmTargetException ex = assertThrows(DmTargetException.class, () -> dm.create("cr", "0 64 crypt " + e.getKey()), e.getKey());
            assertTrue(ex.getMessage().contains(e.getValue()), ex.getMessage());
        }
    }

    @Test
    void anUnknownAllocationPatternIsRefusedNamingTheParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DeviceMapper(sys, ModuleParams.of(Map.of("dm_crypt", Map.of("alloc_buffer", "bulk")))));
        assertTrue(e.getMessage().contains("dm_crypt.alloc_buffer must be serialised or unserialised, got 'bulk'"), e.getMessage());
    }
}
