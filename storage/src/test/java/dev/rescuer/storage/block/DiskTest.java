package dev.rescuer.storage.block;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.sync.Completion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskTest {

    private final Platform platform = new RealPlatform();

    @AfterEach
    void close() {
        platform.close();
    }

    @Test
    void atMostQueueDepthRequestsAreInFlightAndEachEndsInInterruptContext() {
        Disk disk = new Disk(platform, "sda", 1024, Duration.ofMillis(1), 2);
        int n = 8;
        Completion all = new Completion(platform, "all");
        AtomicInteger ended = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        AtomicInteger notAtomic = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            Bio bio = new Bio(BioOp.WRITE, 0, disk, i * 8L, 8 * Bio.SECTOR_SIZE, null, b -> {
                maxInFlight.accumulateAndGet(disk.inFlight(), Math::max);
                if (!platform.currentTask().inAtomic()) {
                    notAtomic.incrementAndGet();
                }
                if (ended.incrementAndGet() == n) {
                    all.complete();
                }
            }, "t");
            long[] data = new long[8];
            java.util.Arrays.fill(data, 100 + i);
            bio.setData(data, 0);
            BlockLayer.submitBioNoacct(bio); // the ninth sleeps for a tag
            assertTrue(disk.inFlight() <= 2);
        }
        all.waitFor();
        assertTrue(maxInFlight.get() <= 2, "tags bound the requests in flight");
        assertEquals(0, notAtomic.get(), "completions run in the timer's atomic context");
        assertEquals(0, disk.inFlight());
        long[] back = new long[16];
        Bio read = new Bio(BioOp.READ, 0, disk, 8, 16 * Bio.SECTOR_SIZE, null, null, "t");
        read.setData(back, 0);
        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(read));
        long[] expect = new long[16];
        java.util.Arrays.fill(expect, 0, 8, 101);
        java.util.Arrays.fill(expect, 8, 16, 102);
        assertArrayEquals(expect, back);
        assertEquals(0, disk.contentAt(1000), "never written: zero");
    }

    @Test
    void badGeometryIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Disk(platform, "x", 0, Duration.ZERO, 1));
        assertThrows(IllegalArgumentException.class, () -> new Disk(platform, "x", 8, Duration.ZERO, 0));
        Disk d = new Disk(platform, "x", 8, Duration.ZERO, 1);
        assertThrows(IllegalArgumentException.class, () -> BlockLayer.submitBioNoacct(
                new Bio(BioOp.READ, 0, d, 4, 8 * Bio.SECTOR_SIZE, null, null, "t")));
    }
}
