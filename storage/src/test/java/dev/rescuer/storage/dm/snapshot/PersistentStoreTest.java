package dev.rescuer.storage.dm.snapshot;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.block.Disk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The persistent store's layout and its commit batching, as {@code persistent_commit_exception} does it. */
class PersistentStoreTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(2048).build();
    private final Disk cow = new Disk(sys.platform(), "cow", 1024, Duration.ofMillis(1), 4);

    @AfterEach
    void close() {
        sys.close();
    }

    private PendingException prepared(PersistentStore ps, long oldChunk) {
        PendingException pe = new PendingException(null, oldChunk);
        assertTrue(ps.prepareException(pe));
        return pe;
    }

    @Test
    void aFreshDeviceGetsAHeaderAndChunksSkipTheMetadataAreas() {
        PersistentStore ps = new PersistentStore(sys, "s", cow, 8);
        assertTrue(ps.readMetadata((o, n) -> { throw new AssertionError("a fresh store has no exceptions"); }));
        assertEquals(PersistentStore.SNAP_MAGIC, cow.contentAt(0));
        assertEquals(1, cow.contentAt(1), "valid");
        assertEquals(8, cow.contentAt(3), "chunk size");
        List<Long> chunks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            chunks.add(prepared(ps, i).newChunk);
        }
        // chunk 0 header, 1 area 0, 2..5 data (4 exceptions per area), 6 area 1, 7.. data
        assertEquals(List.of(2L, 3L, 4L, 5L, 7L, 8L), chunks);
    }

    @Test
    void commitsWaitForTheLastCopyInFlightOrAFullArea() {
        PersistentStore ps = new PersistentStore(sys, "s", cow, 8);
        ps.readMetadata((o, n) -> { });
        List<String> called = new ArrayList<>();
        PendingException a = prepared(ps, 10);
        PendingException b = prepared(ps, 11);
        ps.commitException(a, true, ok -> called.add("a " + ok));
        assertEquals(List.of(), called, "b is still being copied: the area is not written yet");
        assertEquals(0, cow.contentAt(8 + 1), "nothing on disk yet");
        ps.commitException(b, true, ok -> called.add("b " + ok));
        assertEquals(List.of("a true", "b true"), called);
        assertEquals(10, cow.contentAt(8), "area 0 (chunk 1) holds a's old chunk");
        assertEquals(a.newChunk, cow.contentAt(9));
        assertEquals(11, cow.contentAt(10));

        called.clear();
        List<PendingException> more = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            more.add(prepared(ps, 20 + i));
        }
        PendingException straggler = prepared(ps, 30);
        for (PendingException pe : more) {
            ps.commitException(pe, true, ok -> called.add("more " + ok));
        }
        assertEquals(List.of("more true", "more true"), called,
                "the fourth exception filled area 0, which was written with two copies still in flight");
        ps.commitException(straggler, true, ok -> called.add("straggler " + ok));
        assertEquals(List.of("more true", "more true", "more true", "straggler true"), called);

        PersistentStore reread = new PersistentStore(sys, "s2", cow, 8);
        List<Long> found = new ArrayList<>();
        assertTrue(reread.readMetadata((o, n) -> found.add(o)));
        assertEquals(List.of(10L, 11L, 20L, 21L, 22L, 30L), found, "area 0 then area 1, in commit order");
    }
}
