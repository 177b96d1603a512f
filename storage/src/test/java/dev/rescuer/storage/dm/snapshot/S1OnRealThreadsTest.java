package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.check.LockClass;
import dev.rescuer.check.Validator;
import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.block.Disk;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.ModuleParams;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * S1 ({@code stacks/s1-cow-throttle.yaml}) on JVM threads: the storage model's dm-snapshot, kcopyd and
 * disks on {@link RealPlatform}, under the validator, in a run that cannot hang: the origin writers
 * write one chunk at a time, each waiting for its write (and so its copy) to end, one writer after
 * the other, and lvcreate creates the second snapshot after them. The 2019 throttle is reported from
 * that run; the fix is not.
 */
class S1OnRealThreadsTest {

    private static List<List<String>> cyclesOf(String cowThrottle) {
        RealPlatform platform = new RealPlatform();
        Validator validator = Validator.attach(platform);
        try (RescuerSystem sys = RescuerSystem.builder().platform(platform).name("s1").totalPages(4096)
                .workqueues(WorkqueueConfig.defaults().withCpus(2)).hungTaskTimeout(Duration.ZERO).build()) {
            DeviceMapper dm = new DeviceMapper(sys, ModuleParams.of(Map.of("dm_snapshot",
                    Map.of("snapshot_cow_threshold", "1", "cow_throttle", cowThrottle))));
            for (String disk : new String[] {"sda", "sdb", "sdc"}) {
                dm.addDevice(new Disk(platform, disk, 1024, Duration.ofMillis(1), 32));
            }
            dm.create("vg-base", "0 1024 snapshot-origin sda");
            dm.create("vg-snap0", "0 1024 snapshot sda sdb P 8");
            BlockDevice origin = dm.lookup("vg-base");
            for (int w = 0; w < 2; w++) {
                int first = w * 8;
                run(platform, "drbd_r/" + w, () -> {
                    for (int i = 0; i < 4; i++) {
                        Bio bio = new Bio(BioOp.WRITE, 0, origin, first + i * 16L, 8 * Bio.SECTOR_SIZE, null, null, "writer");
                        bio.setData(new long[8], 0);
                        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(bio));
                    }
                });
            }
            run(platform, "lvcreate", () -> dm.create("vg-snap1", "0 1024 snapshot sda sdc P 8"));
            return validator.potentialCycles().stream()
                    .map(c -> c.classes().stream().map(LockClass::toString).sorted().toList()).toList();
        } finally {
            platform.close();
        }
    }

    private static void run(RealPlatform platform, String name, Runnable body) {
        Task t = platform.startThread(name, body);
        platform.join(t);
        assertNull(t.failure(), () -> name + " failed: " + t.failure());
    }

    @Test
    void theSemaphoreUnderTheLockIsReportedFromARunThatCompleted() {
        assertEquals(List.of(List.of("&_origins_lock", "&s->cow_count")), cyclesOf("semaphore"));
    }

    @Test
    void waitingUnlockedIsNotReported() {
        assertEquals(List.of(), cyclesOf("wait-unlocked"));
    }
}
