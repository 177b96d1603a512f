package dev.rescuer.storage.pagecache;

import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.mm.ShrinkerRegistration;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.RealPlatform;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page cache never loses a page: over random sequences of reads, writes, background writeback,
 * write completions (some failing), fsyncs, invalidations and reclaim passes, every page's state
 * matches an independent model (reclaim may only ever drop clean pages), every page dirtied is
 * written back (a write bio reached the disk) or still dirty, and every page allocated is freed or
 * still cached.
 */
class PageCacheAccountingProperties {

    static final int FILES = 3;
    static final int PAGES = 12;
    static final long TOTAL = 128;

    enum Kind { READ, WRITE, WRITEPAGES, COMPLETE, COMPLETE_FAILED, FSYNC, INVALIDATE, RECLAIM }

    record Op(Kind kind, int file, int index, int count) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.of(Kind.values()), Arbitraries.integers().between(0, FILES - 1),
                Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(1, 5))
                .as((k, f, i, n) -> new Op(k, f, i, Math.min(n, PAGES - i)));
        return op.list().ofMinSize(1).ofMaxSize(60);
    }

    /** A disk that ends reads at once and holds writes until the test completes them, oldest first. */
    static final class HeldDisk implements BlockDevice {
        final Platform platform;
        final ArrayDeque<Bio> held = new ArrayDeque<>();
        boolean inline;
        long writesSeen;

        HeldDisk(Platform platform) {
            this.platform = platform;
        }

        @Override
        public String name() {
            return "held";
        }

        @Override
        public long capacitySectors() {
            return 1 << 20;
        }

        @Override
        public Platform platform() {
            return platform;
        }

        @Override
        public void submitBio(Bio bio) {
            if (bio.op() == BioOp.WRITE) {
                writesSeen++;
                if (!inline) {
                    held.add(bio);
                    return;
                }
            }
            bio.endio();
        }
    }

    enum S { ABSENT, CLEAN, DIRTY, WB, DIRTY_WB }

    @Property(tries = 150)
    void noPageIsEverLost(@ForAll("ops") List<Op> ops) throws Exception {
        Platform platform = new RealPlatform();
        try (PageAllocator ram = PageAllocator.builder(platform).name("ram").totalPages(TOTAL).watermarks(4, 8, 12)
                .reclaimRetries(1).retryBackoff(java.time.Duration.ofMillis(1)).shrinkBatch(32).build()) {
            PageCache cache = new PageCache(ram);
            ShrinkerRegistration reg = cache.registerShrinker();
            HeldDisk disk = new HeldDisk(platform);
            AddressSpace[] files = new AddressSpace[FILES];
            S[][] model = new S[FILES][PAGES];
            for (int f = 0; f < FILES; f++) {
                int base = f * PAGES * 8;
                files[f] = cache.newAddressSpace("f" + f, Gfp.KERNEL, new AddressSpaceOperations() {
                    @Override
                    public BlockDevice device() {
                        return disk;
                    }

                    @Override
                    public long sectorOf(AddressSpace mapping, long index) {
                        return base + index * 8;
                    }
                }, InodeWriteback.NONE);
                Arrays.fill(model[f], S.ABSENT);
            }
            long dirtied = 0;
            for (Op op : ops) {
                S[] m = model[op.file()];
                AddressSpace a = files[op.file()];
                switch (op.kind()) {
                    case READ:
                        a.read(op.index(), op.count());
                        for (int i = op.index(); i < op.index() + op.count(); i++) {
                            if (m[i] == S.ABSENT) {
                                m[i] = S.CLEAN;
                            }
                        }
                        break;
                    case WRITE:
                        a.write(op.index(), op.count());
                        for (int i = op.index(); i < op.index() + op.count(); i++) {
                            if (m[i] == S.ABSENT || m[i] == S.CLEAN) {
                                m[i] = S.DIRTY;
                                dirtied++;
                            } else if (m[i] == S.WB) {
                                m[i] = S.DIRTY_WB;
                                dirtied++;
                            }
                        }
                        break;
                    case WRITEPAGES: {
                        a.writepages(WritebackControl.background(op.count()));
                        int left = op.count();
                        for (int i = 0; i < PAGES && left > 0; i++) {
                            if (m[i] == S.DIRTY) {
                                m[i] = S.WB;
                                left--;
                            }
                        }
                        break;
                    }
                    case COMPLETE:
                    case COMPLETE_FAILED:
                        for (int n = 0; n < op.count() && !disk.held.isEmpty(); n++) {
                            Bio b = disk.held.poll();
                            int f = (int) (b.sector() / (PAGES * 8));
                            int i = (int) (b.sector() % (PAGES * 8) / 8);
                            model[f][i] = model[f][i] == S.DIRTY_WB ? S.DIRTY : S.CLEAN;
                            b.endio(op.kind() == Kind.COMPLETE ? BlkStatus.OK : BlkStatus.IOERR);
                        }
                        break;
                    case FSYNC: {
                        while (!disk.held.isEmpty()) { // the older writeback ends first, or the wait would never return
                            Bio b = disk.held.poll();
                            int f = (int) (b.sector() / (PAGES * 8));
                            int i = (int) (b.sector() % (PAGES * 8) / 8);
                            model[f][i] = model[f][i] == S.DIRTY_WB ? S.DIRTY : S.CLEAN;
                            b.endio();
                        }
                        disk.inline = true;
                        a.filemapWriteAndWaitRange(0, Long.MAX_VALUE);
                        disk.inline = false;
                        for (int i = 0; i < PAGES; i++) {
                            if (m[i] == S.DIRTY) {
                                m[i] = S.CLEAN;
                            }
                        }
                        break;
                    }
                    case INVALIDATE:
                        a.invalidateMappingPages();
                        for (int i = 0; i < PAGES; i++) {
                            if (m[i] == S.CLEAN) {
                                m[i] = S.ABSENT;
                            }
                        }
                        break;
                    case RECLAIM: {
                        long want = Math.max(1, ram.freePages() - 2 + op.count());
                        Pages hog = ram.tryAllocate((int) Math.min(want, TOTAL - 1), Gfp.KERNEL.with(Gfp.Modifier.NORETRY, Gfp.Modifier.NOWARN));
                        if (hog != null) {
                            hog.free();
                        }
                        break;
                    }
                    default:
                        throw new AssertionError(op);
                }
                long nrDirty = 0;
                long nrWb = 0;
                long cached = 0;
                for (int f = 0; f < FILES; f++) {
                    for (int i = 0; i < PAGES; i++) {
                        String actual = files[f].pageState(i);
                        if (model[f][i] == S.CLEAN && actual.equals("absent")) {
                            model[f][i] = S.ABSENT; // reclaim may drop clean pages, and only those
                        }
                        assertEquals(name(model[f][i]), actual, "f" + f + "[" + i + "] after " + op);
                        nrDirty += model[f][i] == S.DIRTY || model[f][i] == S.DIRTY_WB ? 1 : 0;
                        nrWb += model[f][i] == S.WB || model[f][i] == S.DIRTY_WB ? 1 : 0;
                        cached += model[f][i] == S.ABSENT ? 0 : 1;
                    }
                }
                PageCacheStats s = cache.stats();
                assertEquals(nrDirty, s.nrDirty());
                assertEquals(nrWb, s.nrWriteback());
                assertEquals(disk.held.size(), s.nrWriteback(), "a page is under writeback exactly while its bio is in flight");
                assertEquals(dirtied, s.pagesDirtied());
                assertEquals(dirtied, disk.writesSeen + nrDirty, "every page dirtied was written back or is still dirty");
                assertEquals(cached, s.nrFilePages());
                assertEquals(TOTAL - cached, ram.freePages(), "every page allocated is freed or cached");
                assertTrue(s.balances(), s.toString());
            }
            while (!disk.held.isEmpty()) {
                disk.held.poll().endio();
            }
            reg.close();
        } finally {
            platform.close();
        }
    }

    private static String name(S s) {
        switch (s) {
            case ABSENT: return "absent";
            case CLEAN: return "clean";
            case DIRTY: return "dirty";
            case WB: return "writeback";
            default: return "dirty+writeback";
        }
    }
}
