package dev.rescuer.storage.block;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockLayerTest {

    private final Platform platform = new RealPlatform();
    private final List<String> dispatched = new ArrayList<>();
    private int depth;
    private int maxDepth;

    @AfterEach
    void close() throws Exception {
        platform.close();
    }

    /** A device whose submitBio records the bio, then runs {@code action} with it. */
    private BlockDevice device(String name, Consumer<Bio> action) {
        return new BlockDevice() {
            @Override public String name() { return name; }
            @Override public long capacitySectors() { return 1 << 20; }
            @Override public Platform platform() { return platform; }
            @Override public void submitBio(Bio bio) {
                maxDepth = Math.max(maxDepth, ++depth);
                try {
                    dispatched.add(name + "@" + bio.sector());
                    action.accept(bio);
                } finally {
                    depth--;
                }
            }
        };
    }

    private static Bio read(BlockDevice dev, long sector, Consumer<Bio> endIo) {
        return new Bio(BioOp.READ, 0, dev, sector, Bio.SECTOR_SIZE * 8, null, endIo, "test");
    }

    @Test
    void stackedDevicesNeverNestSubmitBioAndLowerLevelsGoFirst() {
        BlockDevice disk = device("disk", Bio::endio);
        // "top" splits each bio into two for "mid", and queues a second bio for itself on the first one.
        BlockDevice[] top = new BlockDevice[1];
        BlockDevice mid = device("mid", bio -> {
            Bio down = read(disk, bio.sector() + 1000, null);
            down.chain(bio);
            BlockLayer.submitBioNoacct(down);
            bio.endio();
        });
        top[0] = device("top", bio -> {
            for (int i = 0; i < 2; i++) {
                Bio half = read(mid, bio.sector() + i * 8, null);
                half.chain(bio);
                BlockLayer.submitBioNoacct(half);
            }
            if (bio.sector() == 0) {
                BlockLayer.submitBioNoacct(read(top[0], 100, Bio::hashCode));
            }
            bio.endio();
        });
        List<Bio> ended = new ArrayList<>();
        BlockLayer.submitBioNoacct(read(top[0], 0, ended::add));

        assertEquals(1, maxDepth, "submit_bio_noacct must turn recursion into iteration");
        // top@0 queues mid@0, mid@8 (lower) and top@100 (same level): both mids and their disk bios go first.
        assertEquals(List.of("top@0", "mid@0", "disk@1000", "mid@8", "disk@1008", "top@100",
                "mid@100", "disk@1100", "mid@108", "disk@1108"), dispatched);
        assertEquals(1, ended.size(), "the parent ends once, after all its chained children");
        assertNull(platform.currentTask().bioList(), "the task's bio_list is cleared on return");
    }

    @Test
    void chainedParentEndsLastWithTheFirstError() {
        BlockDevice disk = device("disk", b -> { });
        List<Bio> ended = new ArrayList<>();
        Bio parent = read(disk, 0, ended::add);
        Bio a = read(disk, 0, null);
        Bio b = read(disk, 8, null);
        a.chain(parent);
        b.chain(parent);
        parent.endio();
        a.endio(BlkStatus.IOERR);
        assertTrue(ended.isEmpty(), "a child is still in flight");
        assertFalse(parent.hasEnded());
        b.endio();
        assertEquals(1, ended.size());
        assertSame(BlkStatus.IOERR, parent.status());
        assertThrows(IllegalStateException.class, b::endio, "ending a bio twice is refused");
    }

    @Test
    void submitBioWaitFromInsideSubmitBioIsRefused() {
        BlockDevice disk = device("disk", Bio::endio);
        List<Throwable> refused = new ArrayList<>();
        BlockDevice top = device("top", bio -> {
            try {
                BlockLayer.submitBioWait(read(disk, 0, null));
            } catch (IllegalStateException e) {
                refused.add(e);
            }
            bio.endio();
        });
        BlockLayer.submitBioNoacct(read(top, 0, null));
        assertEquals(1, refused.size());
        assertEquals(BlkStatus.OK, BlockLayer.submitBioWait(read(disk, 0, null)));
    }

    @Test
    void badBiosAreRefusedWithTheReason() {
        BlockDevice disk = device("disk", Bio::endio);
        assertThrows(IllegalArgumentException.class, () -> new Bio(BioOp.READ, 0, disk, 0, 100, null, null, "t"));
        assertThrows(IllegalArgumentException.class, () -> new Bio(BioOp.FLUSH, 0, disk, 0, 512, null, null, "t"));
        assertThrows(IllegalArgumentException.class, () -> new Bio(BioOp.WRITE, 0, disk, -1, 512, null, null, "t"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BlockLayer.submitBioNoacct(read(disk, (1 << 20) - 4, null)));
        assertTrue(e.getMessage().contains("past the end of disk"), e.getMessage());
        assertTrue(dispatched.isEmpty());
    }
}
