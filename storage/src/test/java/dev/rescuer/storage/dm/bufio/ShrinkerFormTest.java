package dev.rescuer.storage.dm.bufio;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlockDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each dm-bufio shrinker form under each reclaim context, on real threads: a client holds two clean
 * and two dirty buffers, memory is taken to the min watermark, and one page is allocated in the
 * context (by direct reclaim in the allocating task, as kswapd's {@code GFP_KERNEL} would too).
 */
class ShrinkerFormTest {

    /** A device that ends every bio at once and records who submitted each write. */
    static final class RecordingDevice implements BlockDevice {
        final Platform platform;
        final List<String> writers = new CopyOnWriteArrayList<>();

        RecordingDevice(Platform platform) {
            this.platform = platform;
        }

        @Override
        public String name() {
            return "meta";
        }

        @Override
        public long capacitySectors() {
            return 1 << 12;
        }

        @Override
        public Platform platform() {
            return platform;
        }

        @Override
        public void submitBio(Bio bio) {
            if (bio.op() == BioOp.WRITE) {
                writers.add(platform.currentTask().name());
            }
            bio.endio();
        }
    }

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(64).watermarks(4, 8, 12).backgroundReclaim(false).build();
    private final RecordingDevice dev = new RecordingDevice(sys.platform());

    @AfterEach
    void close() {
        sys.close();
    }

    private DmBufioClient clientWithTwoCleanAndTwoDirty(ShrinkerForm form) {
        DmBufioClient c = new DmBufioClient(sys, dev, Bio.PAGE_SIZE, 0, "thin", form);
        for (int i = 0; i < 4; i++) {
            DmBuffer b = c.newBuffer(i);
            assertNotNull(b);
            if (i >= 2) {
                b.data()[0] = 7;
                c.markBufferDirty(b);
            }
            c.release(b);
        }
        assertEquals(2, c.dirty());
        return c;
    }

    private Pages allocateInContext(String context) {
        Gfp gfp = switch (context) {
            case "GFP_KERNEL" -> Gfp.KERNEL;
            case "GFP_NOFS" -> Gfp.NOFS;
            case "GFP_NOIO" -> Gfp.NOIO;
            default -> throw new IllegalArgumentException(context);
        };
        // RETRY_MAYFAIL: one task and nothing else frees, and a plain IO-less order-0 allocation is
        // too small to fail; the shrinker's form under each context is what these tests look at.
        return sys.pages().tryAllocate(1, gfp.with(Gfp.Modifier.RETRY_MAYFAIL));
    }

    @ParameterizedTest(name = "{0} under {1}: sleeping lock {2}, writes dirty buffers {3}")
    @CsvSource({
            "PRE_2014,       GFP_KERNEL, true,  true",
            "PRE_2014,       GFP_NOFS,   true,  true",
            "PRE_2014,       GFP_NOIO,   false, false",
            "GFP_FS_2014,    GFP_KERNEL, true,  true",
            "GFP_FS_2014,    GFP_NOFS,   false, false",
            "GFP_FS_2014,    GFP_NOIO,   false, false",
            "TRYLOCK_2019,   GFP_KERNEL, false, true",
            "TRYLOCK_2019,   GFP_NOFS,   false, false",
            "TRYLOCK_2019,   GFP_NOIO,   false, false",
    })
    void reclaimInTheAllocatingTask(ShrinkerForm form, String context, boolean sleepingLock, boolean writesDirty) {
        DmBufioClient c = clientWithTwoCleanAndTwoDirty(form);
        Pages hog = sys.pages().allocate((int) (sys.pages().freePages() - sys.pages().minWatermark()), Gfp.KERNEL);
        Pages got = allocateInContext(context);
        assertNotNull(got, "the two clean buffers are reclaimable in every context");
        assertEquals(sleepingLock, form.sleepsOnLock(allocationContext(context)));
        assertEquals(writesDirty, form.mayWaitForIo(allocationContext(context)));
        if (writesDirty) {
            String me = sys.platform().currentTask().name();
            assertEquals(List.of(me, me), dev.writers, "the allocating task itself wrote the dirty buffers");
            assertEquals(2, dev.writers.size());
            assertEquals(2, c.cleanedByReclaim());
            assertEquals(0, c.cached());
        } else {
            assertTrue(dev.writers.isEmpty(), "no write from reclaim in " + context);
            assertEquals(2, c.dirty());
            assertEquals(2, c.cached(), "only the clean buffers were evicted");
        }
        got.free();
        hog.free();
    }

    private static Gfp allocationContext(String context) {
        return switch (context) {
            case "GFP_KERNEL" -> Gfp.KERNEL;
            case "GFP_NOFS" -> Gfp.NOFS;
            default -> Gfp.NOIO;
        };
    }

    @ParameterizedTest(name = "WORKQUEUE_2020 under {0}: reclaim only queues shrink_work")
    @CsvSource({"GFP_KERNEL", "GFP_NOFS", "GFP_NOIO"})
    void theWorkqueueFormNeverWritesFromReclaim(String context) {
        DmBufioClient c = clientWithTwoCleanAndTwoDirty(ShrinkerForm.WORKQUEUE_2020);
        assertTrue(sys.workqueues().queues().stream().anyMatch(q -> q.name().equals("dm_bufio_cache/thin") && q.hasRescuer()),
                "dm_bufio_cache is a MEM_RECLAIM queue");
        Pages hog = sys.pages().allocate((int) (sys.pages().freePages() - sys.pages().minWatermark()), Gfp.KERNEL);
        Pages got = allocateInContext(context); // may fail: reclaim here frees nothing itself
        c.shrinkWork().flush();
        String me = sys.platform().currentTask().name();
        assertEquals(2, dev.writers.size(), "shrink_work wrote both dirty buffers, in GFP_KERNEL context: " + dev.writers);
        assertFalse(dev.writers.contains(me), "the allocating task wrote nothing: " + dev.writers);
        assertEquals(0, c.cached());
        if (got != null) {
            got.free();
        }
        hog.free();
    }

    @org.junit.jupiter.api.Test
    void aNoSleepClientIsReadOnly() {
        DmBufioClient c = new DmBufioClient(sys, dev, Bio.PAGE_SIZE, DmBufioClient.DM_BUFIO_CLIENT_NO_SLEEP, "verity");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.newBuffer(0));
        assertTrue(e.getMessage().contains("DM_BUFIO_CLIENT_NO_SLEEP"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void formsAreSpelledAsSettings() {
        assertEquals(ShrinkerForm.GFP_FS_2014, ShrinkerForm.of("gfp-fs-2014"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShrinkerForm.of("2014"));
        assertTrue(e.getMessage().contains("'2014'") && e.getMessage().contains("workqueue-2020"), e.getMessage());
    }
}
