package dev.rescuer.storage.md;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.pagecache.TestDisk;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * md's superblock-change flag and {@code sb_wait} ({@code md_write_start}), the flush path on
 * {@code md_wq}, raid1's mirroring, and who clears the flag (user space with external metadata, the
 * md thread with in-kernel metadata). Every test runs under the simulator, PCT and random walk.
 */
class MdWriteStartTest {

    private static Bio write(Mddev md, long sector, long value, int flags) {
        Bio w = new Bio(BioOp.WRITE, flags, md, sector, Bio.SECTOR_SIZE, null, null, "test write");
        w.setData(new long[] {value}, 0);
        return w;
    }

    /** The first write sets MD_SB_CHANGE_PENDING and sleeps until user space writes "active"; it then reaches both mirrors. */
    @Test
    void theFirstWriteWaitsUntilUserSpaceClearsThePendingFlag() {
        MdSim.assertCompletes("md-write-start", Kernfs.NotifyQueue.SYSTEM_WQ, 100, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            AtomicBoolean cleared = new AtomicBoolean();
            AtomicBoolean endedAfterClear = new AtomicBoolean();
            env.ctx().spawn("writer", () -> {
                BlockLayer.submitBioWait(write(md, 3, 42, 0));
                endedAfterClear.set(cleared.get());
            });
            env.ctx().spawn("user", () -> {
                long ev = 0;
                while (!"write-pending".equals(md.arrayStateShow())) {
                    ev = md.sysfsState().pollWait(ev);
                }
                Mddev.writeMetadata(env.a(), "user metadata"); // what mdmon does before it clears
                cleared.set(true);
                md.arrayStateStore("active");
            });
            env.ctx().invariant("the write ended only after the flag was cleared", endedAfterClear::get);
            env.ctx().invariant("the data reached sda after the metadata", () -> {
                List<TestDisk.Seen> seen = env.a().seen();
                return seen.size() == 2 && seen.get(0).origin().equals("user metadata") && seen.get(1).origin().equals("test write");
            });
            env.ctx().invariant("the array is dirty, nothing pending",
                    () -> !md.inSync() && !md.testSbFlag(Mddev.MD_SB_CHANGE_PENDING) && "active".equals(md.arrayStateShow()));
            env.ctx().invariant("both mirrors hold the write", () -> env.b().count(BioOp.WRITE) == 1
                    && env.a().seen().stream().filter(x -> x.origin().equals("test write")).count() == 1);
            env.ctx().invariant("the kernel did not write a superblock", () -> md.superblockWrites() == 0);
        });
    }

    /** A read neither dirties the array nor waits; once the array is dirty, a write neither notifies nor waits. */
    @Test
    void aDirtyArrayWritesWithoutWaitingAndReadsComeFromOneMirror() {
        MdSim.assertCompletes("md-dirty", Kernfs.NotifyQueue.SYSTEM_WQ, 50, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            AtomicLong notifiesBySecondWrite = new AtomicLong(-1);
            AtomicBoolean readLeftItClean = new AtomicBoolean();
            env.ctx().spawn("writer", () -> {
                Bio r = new Bio(BioOp.READ, 0, md, 0, Bio.SECTOR_SIZE, null, null, "read");
                r.setData(new long[1], 0);
                BlockLayer.submitBioWait(r);
                readLeftItClean.set(md.inSync() && md.sysfsState().event() == 0);
                BlockLayer.submitBioWait(write(md, 1, 7, 0));
                long before = md.sysfsState().event();
                BlockLayer.submitBioWait(write(md, 2, 8, 0));
                notifiesBySecondWrite.set(md.sysfsState().event() - before);
            });
            env.ctx().spawn("user", () -> {
                long ev = 0;
                while (!"write-pending".equals(md.arrayStateShow())) {
                    ev = md.sysfsState().pollWait(ev);
                }
                md.arrayStateStore("active");
            });
            env.ctx().invariant("the read left the array clean and did not notify", readLeftItClean::get);
            env.ctx().invariant("the second write did not notify", () -> notifiesBySecondWrite.get() == 0);
            env.ctx().invariant("the read went to one mirror", () -> env.a().count(BioOp.READ) + env.b().count(BioOp.READ) == 1);
            env.ctx().invariant("both writes went to both mirrors", () -> env.a().count(BioOp.WRITE) == 2 && env.b().count(BioOp.WRITE) == 2);
        });
    }

    /**
     * A preflush write: {@code submit_flushes} sends an empty flush to each mirror from {@code md_wq},
     * then {@code md_submit_flush_data} sends the data without the preflush, on {@code md_wq} too.
     */
    @Test
    void aPreflushWriteFlushesEveryMirrorThenWritesTheDataFromMdWq() {
        MdSim.assertCompletes("md-flush", Kernfs.NotifyQueue.SYSTEM_WQ, 100, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), false); // in-kernel metadata: nobody else needed
            env.ctx().spawn("fsync", () -> BlockLayer.submitBioWait(write(md, 0, 9, Bio.REQ_PREFLUSH | Bio.REQ_FUA)));
            for (TestDisk d : List.of(env.a(), env.b())) {
                env.ctx().invariant(d.name() + " saw the flush before the data, and the data without PREFLUSH", () -> {
                    List<TestDisk.Seen> seen = d.seen().stream().filter(s -> !s.origin().contains("md_update_sb")).toList();
                    return seen.size() == 2 && seen.get(0).op() == BioOp.FLUSH && seen.get(0).origin().equals("md0 md flush")
                            && seen.get(1).op() == BioOp.WRITE && !seen.get(1).has(Bio.REQ_PREFLUSH) && seen.get(1).has(Bio.REQ_FUA);
                });
            }
            env.ctx().invariant("the md thread wrote the superblock once, to both mirrors", () -> md.superblockWrites() == 1
                    && env.a().seen().stream().filter(s -> s.origin().equals("md0 md_update_sb")).count() == 1);
        });
    }

    @Test
    void arrayStateAcceptsOnlyActive() {
        MdSim.assertCompletes("md-array-state", Kernfs.NotifyQueue.SYSTEM_WQ, 1, env -> {
            Mddev md = env.md().raid1("md0", List.of(env.a(), env.b()), true);
            env.ctx().spawn("user", () -> {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> md.arrayStateStore("clean"));
                assertEquals("md0/md/array_state: \"clean\" is not modelled (only \"active\")", e.getMessage());
                assertTrue(md.inSync());
            });
        });
    }
}
