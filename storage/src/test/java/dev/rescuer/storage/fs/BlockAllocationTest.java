package dev.rescuer.storage.fs;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.AbstractPlatform;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.pagecache.PageCache;
import dev.rescuer.storage.pagecache.ReclaimRecorder;
import dev.rescuer.storage.pagecache.TestDisk;
import dev.rescuer.storage.writeback.BdiWriteback;
import dev.rescuer.storage.writeback.DirtyThrottle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes into holes of sparse files, on real threads: the allocation's transaction, the allocation
 * group's AGF it holds, and the {@code GFP_NOFS} buffer allocation of a fork conversion made with
 * the AGF held (what S2's case (a) needs of the filesystem).
 */
class BlockAllocationTest {

    static final long SECTORS = 1 << 12;

    private final RescuerSystem sys = RescuerSystem.builder().name("ram").totalPages(256).watermarks(8, 12, 16).pagesPerThread(1)
            .backgroundReclaim(false).workqueues(dev.rescuer.core.wq.WorkqueueConfig.defaults().withCpus(1)).build();
    private final PageCache cache = new PageCache(sys.pages());
    private final TestDisk disk = new TestDisk("vdb", sys.platform(), SECTORS, Duration.ZERO);

    @AfterEach
    void close() {
        sys.close();
    }

    private JournalFs mount(FsLayout layout) {
        BdiWriteback wb = new BdiWriteback("vdb", BdiWriteback.allocBdiWq(sys.workqueues()), DirtyThrottle.withDefaults(cache));
        return JournalFs.mount(disk, layout, MountOptions.READ_WRITE, cache, sys.workqueues(), wb);
    }

    /** What reclaim saw when an allocation of the calling task reclaimed: its context and the AGFs held. */
    private record Seen(String gfp, boolean ag0Held, boolean ag1Held) {
    }

    /** Writes page {@code page} of {@code file} and returns what each reclaim of the write saw ({@link ReclaimRecorder}). */
    private List<Seen> reclaimDuringWrite(JournalFs fs, String file, long page) {
        try (OpenFile f = fs.open(file)) {
            return ReclaimRecorder.during(sys.pages(), sys.platform(),
                    gfp -> new Seen(gfp.toString(), fs.ag(0).agf().isHeldByCurrentTask(), fs.ag(1).agf().isHeldByCurrentTask()),
                    () -> f.write(page * Bio.PAGE_SIZE, Bio.PAGE_SIZE));
        }
    }

    /**
     * Every reclaim the write entered was {@code expected}'s, and there was one: the page-cache
     * page's allocation may reclaim more than once when another task (kthreadd starting a worker,
     * say) takes the page a scan freed before the allocation retries.
     */
    private static void assertOnly(Seen expected, List<Seen> seen, String why) {
        assertFalse(seen.isEmpty(), why + ": the write allocated at the min watermark, so it reclaimed");
        assertEquals(List.of(expected), seen.stream().distinct().toList(), why + ": " + seen);
    }

    @Test
    void aNewExtentInAFullForkAllocatesItsBtreeBufferNofsWithTheAgfHeld() {
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2);
        FsLayout.FileEntry spool = layout.addFile("spool", 16, 16L * Bio.PAGE_SIZE, 1, 8, true);
        JournalFs fs = mount(layout);
        List<Seen> seen = reclaimDuringWrite(fs, "spool", 15);
        assertEquals(List.of(new Seen(JournalFs.BUFFER_GFP.toString(), false, true)), seen,
                "the fork conversion's buffer, in the transaction's nofs scope, with AG 1's AGF held (the page-cache page"
                        + " then takes the page the commit freed)");
        assertTrue(spool.isAllocated(15));
        assertFalse(spool.forkFull(), "the fork is a B+tree now");
        assertFalse(fs.ag(1).agf().isLocked(), "the commit unlocked the AGF");
        assertEquals(9, spool.allocatedBlocks());
    }

    @Test
    void aBlockThatExtendsAnExtentOrAnyWriteToAnAllocatedBlockAllocatesNoBuffer() {
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2);
        FsLayout.FileEntry spool = layout.addFile("spool", 16, 16L * Bio.PAGE_SIZE, 0, 8, true);
        JournalFs fs = mount(layout);
        Seen pageCachePage = new Seen(JournalFs.MAPPING_GFP.toString(), false, false);
        assertOnly(pageCachePage, reclaimDuringWrite(fs, "spool", 8),
                "block 8 extends blocks 0..7: no new extent record, so no conversion and no buffer");
        assertOnly(pageCachePage, reclaimDuringWrite(fs, "spool", 3), "block 3 is allocated: no transaction at all");
        assertTrue(spool.forkFull());
        assertEquals(9, spool.allocatedBlocks());
    }

    @Test
    void allocationsInOneGroupWaitForItsAgfAndAnotherGroupsDoNot() {
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2);
        FsLayout.FileEntry a = layout.addFile("a", 16, 16L * Bio.PAGE_SIZE, 0, 0, false);
        FsLayout.FileEntry b = layout.addFile("b", 16, 16L * Bio.PAGE_SIZE, 1, 0, false);
        FsLayout.FileEntry c = layout.addFile("c", 16, 16L * Bio.PAGE_SIZE, 0, 0, false);
        JournalFs fs = mount(layout);
        OpenFile fb = fs.open("b");
        OpenFile fc = fs.open("c");
        fs.ag(0).agf().lock(); // a transaction of this task holds AG 0's AGF
        try {
            fb.write(0, Bio.PAGE_SIZE);
            assertTrue(b.isAllocated(0), "AG 1 allocates while AG 0's AGF is held");
            Task t = sys.platform().startThread("writer-c", () -> fc.write(0, Bio.PAGE_SIZE));
            while (fs.ag(0).agf().waitingTasks().isEmpty()) {
                assertNotEquals(Task.State.EXITED, t.state(), "writer-c returned without waiting for the AGF");
                Thread.onSpinWait(); // until writer-c sleeps on the AGF (a state, not a time)
            }
            assertFalse(c.isAllocated(0), "c's allocation in AG 0 waits for the AGF");
            fs.ag(0).agf().unlock();
            sys.platform().join(t);
            assertTrue(c.isAllocated(0));
        } finally {
            if (fs.ag(0).agf().isHeldByCurrentTask()) {
                fs.ag(0).agf().unlock();
            }
            fb.close();
            fc.close();
        }
        assertFalse(a.isAllocated(0));
    }

    /** How many times the calling task took {@code fs}'s sb_lock while {@code body} ran (a listener that counts). */
    private int sbLockTakenDuring(JournalFs fs, Runnable body) {
        Task me = sys.platform().currentTask();
        int[] taken = {0};
        AbstractPlatform platform = (AbstractPlatform) sys.platform(); // a RealPlatform
        platform.setLockEvents(new LockEvents() {
            @Override
            public void acquire(Task task, Primitive lock, int mode, int subclass, boolean trylock) {
                if (task == me && lock.name().equals(fs.name() + "/sb_lock")) {
                    taken[0]++;
                }
            }

            @Override
            public void release(Task task, Primitive lock) {
            }

            @Override
            public void waitOn(Task task, Primitive event) {
            }

            @Override
            public void signal(Task task, Primitive event) {
            }

            @Override
            public void contextBoundary(Task task) {
            }
        });
        try {
            body.run();
        } finally {
            platform.setLockEvents(null);
        }
        return taken[0];
    }

    @Test
    void anAllocationTakesSbLockOnceWhateverTheNumberOfHolesAndAllocatesTheSameBlocks() {
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2);
        FsLayout.FileEntry one = layout.addFile("one", 16, 16L * Bio.PAGE_SIZE, 0, 8, true);
        FsLayout.FileEntry three = layout.addFile("three", 16, 16L * Bio.PAGE_SIZE, 1, 8, true);
        JournalFs fs = mount(layout);
        try (OpenFile f1 = fs.open("one"); OpenFile f3 = fs.open("three")) {
            int forNone = sbLockTakenDuring(fs, () -> f1.write(2 * Bio.PAGE_SIZE, Bio.PAGE_SIZE));
            int forOne = sbLockTakenDuring(fs, () -> f1.write(14 * Bio.PAGE_SIZE, Bio.PAGE_SIZE));
            int forThree = sbLockTakenDuring(fs, () -> f3.write(10 * Bio.PAGE_SIZE, 3 * Bio.PAGE_SIZE));
            assertEquals(forNone + 1, forOne, "a write into one hole takes sb_lock once more than one into no hole");
            assertEquals(forOne, forThree, "sb_lock is taken once per allocation (as m_sb_lock once per transaction, at its"
                    + " commit), not once or twice per hole: 1 hole took it " + forOne + " times, 3 holes " + forThree);
        }
        assertTrue(one.isAllocated(14));
        assertFalse(one.forkFull(), "block 14 was a new extent in a full fork");
        assertEquals(9, one.allocatedBlocks());
        for (long i = 10; i <= 12; i++) {
            assertTrue(three.isAllocated(i), "block " + i);
        }
        assertFalse(three.isAllocated(9));
        assertFalse(three.isAllocated(13));
        assertFalse(three.forkFull(), "block 10 converted the fork; 11 and 12 extend its extent");
        assertEquals(11, three.allocatedBlocks());
    }

    @Test
    void eachGroupIsNamedByItsNumberInItsAgfLock() {
        JournalFs fs = mount(FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2));
        assertEquals("vdb/ag0/agf", fs.ag(0).agf().name(), "pag_agno names the group in reports");
        assertEquals("vdb/ag1/agf", fs.ag(1).agf().name());
        assertEquals("ag 1 (vdb/ag1/agf)", fs.ag(1).toString());
        assertEquals(AllocationGroup.AGF_CLASS, fs.ag(1).agf().lockClass());
    }

    @Test
    void layoutRefusesAMissingGroupAndAnAllocatedCountOutsideTheExtent() {
        FsLayout layout = FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 2);
        IllegalArgumentException ag = assertThrows(IllegalArgumentException.class, () -> layout.addFile("x", 4, 0, 2, 4, false));
        assertTrue(ag.getMessage().contains("allocation group 2 does not exist (the filesystem has 2, numbered from 0)"), ag.getMessage());
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> layout.addFile("y", 4, 0, 0, 5, false));
        assertTrue(n.getMessage().contains("5 allocated blocks is not in 0..4"), n.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> FsLayout.mkfs(SECTORS, 4, 4, Bio.PAGE_SIZE, 0));
        assertTrue(none.getMessage().contains("at least 1 allocation group, got 0"), none.getMessage());
    }
}
