package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.PageAllocator;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.dm.bufio.DmBuffer;
import dev.rescuer.storage.dm.bufio.DmBufioClient;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.MountOptions;
import dev.rescuer.storage.fs.OpenFile;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code kind: thin}: one task that uses a thin pool's metadata (a {@code dm-bufio} entry, named in
 * {@code metadata}) the way dm-thin does around a transaction, on a machine under memory pressure.
 * In order, each step present only if its key is:
 * <ol>
 *   <li>dirties metadata blocks {@code 0 .. dirty_blocks-1} ({@code dm_bufio_new},
 *       {@code dm_bufio_mark_buffer_dirty}, {@code dm_bufio_release}); default 0. With
 *       {@code existing_metadata: true} each block is read first ({@code dm_bufio_read}), as dm-thin's
 *       shadowing reads the block it copies ({@code dm_tm_shadow_block} → {@code dm_bm_read_lock}) in
 *       a pool whose metadata already exists; a loop device below then has those blocks of its file
 *       in the page cache;
 *   <li>{@code read: {fs, file}}: reads the whole file through the page cache (clean pages, which
 *       reclaim in any context may drop);
 *   <li>{@code fault_memory: low | min}: faults memory in, one large {@code GFP_KERNEL} allocation
 *       down to the low watermark, and for {@code min} then page by page down to the min watermark
 *       (slow-path allocations, which wake kswapd);
 *   <li>{@code file_write: {fs, file, page}}: writes page {@code page} (default 0) of a file of a
 *       read-write filesystem ({@code i_rwsem} held; a hole's block allocated first in a transaction
 *       holding its allocation group's AGF; then a page-cache allocation in the file's mapping
 *       context, {@code GFP_NOFS}, or {@code GFP_NOIO} for a loop device's backing file); the
 *       file is opened when the task starts, as a process keeps its file open, so its inode is in
 *       core before memory is short;
 *       {@code file} may list several files ({@link OneOf}), of which each run writes one, drawn from
 *       the run's seed;
 *   <li>{@code data_write: {device, block}}: writes one 4 KiB data block to a block device and waits
 *       for it ({@code submit_bio_wait});
 *   <li>{@code hold_ms}: keeps the faulted memory that long (default 0), while kswapd reclaims;
 * </ol>
 * then frees the memory and commits the metadata ({@code dm_bufio_write_dirty_buffers}). It may
 * start late ({@code start_ms}). The invariants: the commit and the data write succeeded, and no
 * metadata block is left dirty. Each run that commits records one sample of {@link #CLEANED_BY_RECLAIM}.
 */
public final class ThinWorkloadKind extends AbstractWorkloadKind<ThinWorkloadKind.Config> {

    /**
     * The series ({@code "<name> metadata_cleaned_by_reclaim"}) each run that commits records once:
     * how many metadata buffers reclaim wrote and waited for under {@code c->lock} before the commit.
     */
    public static final String CLEANED_BY_RECLAIM = "metadata_cleaned_by_reclaim";

    /**
     * A thin entry.
     *
     * @param kind {@code thin}
     * @param name the task's name
     * @param metadata the dm-bufio client entry holding the pool's metadata
     * @param dirtyBlocks metadata blocks to dirty
     * @param existingMetadata whether each is read before it is dirtied (default false: {@code dm_bufio_new})
     * @param read a file to read first, or {@code null}
     * @param faultMemory {@code low}, {@code min}, or {@code null} for none
     * @param fileWrite a page of a file (or of one of several, drawn per run) to write under pressure, or {@code null}
     * @param dataWrite a data block to write under pressure, or {@code null}
     * @param holdMs how long the faulted memory is held
     * @param startMs when the task starts, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange})
     */
    public record Config(String kind, String name, String metadata, @JsonProperty("dirty_blocks") Integer dirtyBlocks,
                         @JsonProperty("existing_metadata") Boolean existingMetadata,
                         FileRef read, @JsonProperty("fault_memory") String faultMemory,
                         @JsonProperty("file_write") FileWrite fileWrite, @JsonProperty("data_write") DataWrite dataWrite,
                         @JsonProperty("hold_ms") Integer holdMs, @JsonProperty("start_ms") MsRange startMs) {
    }

    /** The {@code kind: thin} entries. */
    public ThinWorkloadKind() {
        super("thin", Config.class);
    }

    /**
     * A file of a filesystem entry.
     *
     * @param fs the filesystem entry
     * @param file the file
     */
    public record FileRef(String fs, String file) {
    }

    /**
     * A page of a file to write.
     *
     * @param fs the filesystem entry
     * @param file the file, or a list of files of which each run writes one ({@link OneOf})
     * @param page the page written; default 0
     */
    public record FileWrite(String fs, JsonNode file, Long page) {
    }

    /**
     * A data block.
     *
     * @param device the block device
     * @param block the 4 KiB block written; default 0
     */
    public record DataWrite(String device, Long block) {
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        DmBufioKind.Config md = check.requireEntry(c.metadata(), "metadata", DmBufioKind.Config.class, "dm-bufio client");
        if (c.dirtyBlocks() != null && c.dirtyBlocks() < 0) {
            throw check.error("dirty_blocks", "must be >= 0, got " + c.dirtyBlocks());
        }
        Long mdSectors = knownSectors(check, md.device());
        long mdBlocks = mdSectors == null ? Long.MAX_VALUE : mdSectors / (DmBufioKind.blockSize(md) / Bio.SECTOR_SIZE);
        if (c.dirtyBlocks() != null && c.dirtyBlocks() > mdBlocks) {
            throw check.error("dirty_blocks", "metadata device " + md.device() + " has " + mdBlocks + " blocks of "
                    + DmBufioKind.blockSize(md) + " bytes, got " + c.dirtyBlocks());
        }
        if (c.read() != null) {
            LoopKind.requireFile(check, c.read().fs(), c.read().file(), "read");
        }
        if (c.faultMemory() != null && !c.faultMemory().equals("low") && !c.faultMemory().equals("min")) {
            throw check.error("fault_memory", "'" + c.faultMemory() + "' is not one of low, min");
        }
        if (c.fileWrite() != null) {
            checkFileWrite(c.fileWrite(), check);
        }
        if (c.dataWrite() != null) {
            check.requireDevice(c.dataWrite().device(), "data_write.device", null);
            if (c.dataWrite().block() != null && c.dataWrite().block() < 0) {
                throw check.error("data_write.block", "must be >= 0, got " + c.dataWrite().block());
            }
            Long sectors = knownSectors(check, c.dataWrite().device());
            long block = c.dataWrite().block() == null ? 0 : c.dataWrite().block();
            if (sectors != null && (block + 1) * FsLayout.BLOCK_SECTORS > sectors) {
                throw check.error("data_write.block", "device " + c.dataWrite().device() + " has " + sectors / FsLayout.BLOCK_SECTORS
                        + " blocks of 4096 bytes, got block " + block);
            }
        }
        if (c.holdMs() != null && c.holdMs() < 0) {
            throw check.error("hold_ms", "must be >= 0, got " + c.holdMs());
        }
        if (c.holdMs() != null && c.holdMs() > MsRange.MAX_MS) {
            throw check.error("hold_ms", "must be at most " + MsRange.MAX_MS + " ms, got " + c.holdMs());
        }
        StartDelay.check(c.startMs(), check);
    }

    /**
     * {@code file_write}: a read-write filesystem entry, and every listed file one of its files with
     * page {@code page} inside its extent.
     */
    private static void checkFileWrite(FileWrite w, StackCheck check) {
        check.require(w.fs(), "file_write.fs");
        FilesystemKind.Config fs = check.requireEntry(w.fs(), "file_write.fs", FilesystemKind.Config.class, "filesystem");
        if (fs.options() != null && MountOptions.parse(fs.options()).readOnly()) {
            throw check.error("file_write.fs", "filesystem " + w.fs() + " is mounted read-only");
        }
        OneOf files = OneOf.check(w.file(), "file_write.file", check);
        check.require(files, "file_write.file");
        long page = w.page() == null ? 0 : w.page();
        for (int i = 0; i < files.names().size(); i++) {
            String name = files.names().get(i);
            FilesystemKind.FileSpec f = LoopKind.fileOf(check, fs, w.fs(), name, OneOf.keyOf(w.file(), "file_write.file", i));
            if (page < 0 || page >= f.blocks()) {
                throw check.error("file_write.page", "must be in 0.." + (f.blocks() - 1) + " (file " + name
                        + " has " + f.blocks() + " blocks), got " + page);
            }
        }
    }

    /**
     * The size in sectors of device entry {@code device} where the file gives it (a disk's
     * {@code sectors}, a loop device's backing file extent), else {@code null}.
     */
    private static Long knownSectors(StackCheck check, String device) {
        Object e = check.entry(device);
        if (e instanceof DiskKind.Config d) {
            return d.sectors();
        }
        if (e instanceof LoopKind.Config l && check.entry(l.backing().fs()) instanceof FilesystemKind.Config f) {
            return f.files().stream().filter(x -> x.name().equals(l.backing().file())).findFirst()
                    .map(x -> x.blocks() * FsLayout.BLOCK_SECTORS).orElse(null);
        }
        return null;
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        DmBufioClient bufio = b.bufioClients().get(c.metadata());
        PageAllocator pages = b.system().pages();
        PageCacheSetup pc = c.read() != null || c.fileWrite() != null ? b.pageCache() : null;
        BlockDevice dataDev = c.dataWrite() == null ? null : b.dm().lookup(c.dataWrite().device());
        int dirtyBlocks = c.dirtyBlocks() == null ? 0 : c.dirtyBlocks();
        // Drawn here, in the setup task, so that a run's seed decides it.
        String writeFile = c.fileWrite() == null ? null : OneOf.parse(c.fileWrite().file()).draw(b.random());
        AtomicReference<BlkStatus> commit = new AtomicReference<>();
        AtomicReference<BlkStatus> dataWrite = new AtomicReference<>(dataDev == null ? BlkStatus.OK : null);
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            // The file to write is open from the start, as a process keeps its file open: its inode is
            // in core before memory is short (an open under pressure would reclaim in GFP_KERNEL first).
            OpenFile toWrite = c.fileWrite() == null ? null : pc.mounted(c.fileWrite().fs()).open(writeFile);
            for (int i = 0; i < dirtyBlocks; i++) {
                DmBuffer buf = Boolean.TRUE.equals(c.existingMetadata()) ? bufio.read(i) : bufio.newBuffer(i);
                if (buf == null) {
                    throw new IllegalStateException(c.name() + ": reading metadata block " + i + " failed");
                }
                buf.data()[0] = 1000 + i;
                bufio.markBufferDirty(buf);
                bufio.release(buf);
            }
            if (c.read() != null) {
                try (OpenFile f = pc.mounted(c.read().fs()).open(c.read().file())) {
                    f.read(0, pc.file(c.read().fs(), c.read().file()).sizeBytes());
                }
            }
            List<Pages> faulted = c.faultMemory() == null ? List.of() : faultIn(pages, c.faultMemory().equals("min"));
            if (toWrite != null) {
                long page = c.fileWrite().page() == null ? 0 : c.fileWrite().page();
                try (OpenFile f = toWrite) {
                    f.write(page * Bio.PAGE_SIZE, Bio.PAGE_SIZE); // xfs_file_buffered_write: i_rwsem, a hole's allocation, the page
                }
            }
            if (dataDev != null) {
                long block = c.dataWrite().block() == null ? 0 : c.dataWrite().block();
                Bio bio = new Bio(BioOp.WRITE, 0, dataDev, block * FsLayout.BLOCK_SECTORS, Bio.PAGE_SIZE, null, null,
                        c.name() + " data");
                bio.setData(new long[FsLayout.BLOCK_SECTORS], 0);
                dataWrite.set(BlockLayer.submitBioWait(bio));
                b.progress();
            }
            if (c.holdMs() != null && c.holdMs() > 0) {
                WaitQueue.idle(b.system().platform(), c.name() + "/hold", "hold_ms")
                        .waitEventTimeout(() -> false, Duration.ofMillis(c.holdMs()));
            }
            faulted.forEach(Pages::free);
            commit.set(bufio.writeDirtyBuffers());
            b.progress();
            b.sample(c.name() + " " + CLEANED_BY_RECLAIM, bufio.cleanedByReclaim());
        });
        b.invariant(c.name() + ": the metadata commit succeeded", () -> commit.get() == BlkStatus.OK);
        b.invariant(c.name() + ": the data write succeeded", () -> dataWrite.get() == BlkStatus.OK);
        b.invariant(c.name() + ": no metadata block is left dirty", () -> bufio.dirty() == 0);
    }

    /**
     * A process faulting memory in: one large allocation down to the low watermark, then for
     * {@code toMin} page by page down to the min watermark; those slow-path allocations wake kswapd
     * ({@code wakeup_kswapd}).
     */
    private static List<Pages> faultIn(PageAllocator pages, boolean toMin) {
        List<Pages> held = new ArrayList<>();
        long big = pages.freePages() - pages.lowWatermark();
        if (big > 0) {
            held.add(pages.allocate((int) big, Gfp.KERNEL));
        }
        if (toMin) {
            long singles = Math.min(pages.freePages(), pages.lowWatermark()) - pages.minWatermark();
            for (long i = 0; i < singles; i++) {
                held.add(pages.allocate(1, Gfp.KERNEL));
            }
        }
        return held;
    }
}
