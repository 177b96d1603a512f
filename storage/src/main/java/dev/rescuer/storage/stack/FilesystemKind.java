package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.fs.FsLayout;
import dev.rescuer.storage.fs.FsLayoutException;
import dev.rescuer.storage.fs.JournalFs;
import dev.rescuer.storage.fs.MountOptions;

import java.util.List;

/**
 * {@code kind: filesystem}: {@code mkfs} on a device, then a line of {@code /etc/fstab}: the journaling
 * filesystem ({@link JournalFs}) laid out with {@code log_blocks} log blocks (written in log sectors of
 * {@code log_sector_bytes}), room for {@code inodes}
 * inodes and the listed {@code files} (each with its data extent, its size on disk, its allocation
 * group of {@code ag_count}, how much of it is allocated and whether its data fork is full), mounted
 * with {@code options} ({@code rw} or {@code ro}). Its {@code name} is what page-cache workloads name
 * in {@code fs}; it is not a block device, so no table can stack on it.
 */
public final class FilesystemKind extends AbstractDeviceKind<FilesystemKind.Config> {

    /**
     * A filesystem entry.
     *
     * @param kind {@code filesystem}
     * @param name the filesystem's name (its mount point, for the reader)
     * @param device the block device it is made on
     * @param options mount options, {@code rw} or {@code ro}; default {@code rw}
     * @param logBlocks log blocks, at least 2; default 8
     * @param inodes inodes; default 16
     * @param logSectorBytes the log's sector size ({@code mkfs.xfs -l sectsize=}), which is the size of
     *     every log write: a power of 2 from 512 to 4096; default 4096
     * @param files files made by {@code mkfs} (a populated image)
     * @param agCount allocation groups ({@code mkfs.xfs -d agcount=}), at least 1; default 1
     */
    public record Config(String kind, String name, String device, String options,
                         @JsonProperty("log_blocks") Integer logBlocks, Integer inodes, List<FileSpec> files,
                         @JsonProperty("log_sector_bytes") Integer logSectorBytes,
                         @JsonProperty("ag_count") Integer agCount) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: filesystem} entries. */
    public FilesystemKind() {
        super("filesystem", Config.class);
    }

    /**
     * A file in the image.
     *
     * @param name its name
     * @param blocks its data extent in 4 KiB blocks
     * @param sizeBytes its size on disk; default the whole extent
     * @param ag the allocation group its extent is reserved in; default 0
     * @param allocatedBlocks how many blocks of its extent, from the first, are allocated; the rest
     *     are holes (a sparse file); default all
     * @param forkFull whether its data fork has no room for another extent record (a file
     *     fragmented by its history: its next new extent converts the fork to a B+tree); default false
     */
    public record FileSpec(String name, Long blocks, @JsonProperty("size_bytes") Long sizeBytes, Integer ag,
                           @JsonProperty("allocated_blocks") Long allocatedBlocks,
                           @JsonProperty("fork_full") Boolean forkFull) {
    }

    @Override
    public boolean blockDevice() {
        return false;
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.requireDevice(c.device(), "device", c.name());
        try {
            MountOptions.parse(c.options() == null ? "rw" : c.options());
        } catch (IllegalArgumentException e) {
            throw check.error("options", e.getMessage());
        }
        // mount opens the device exclusively, the filesystem its holder (mount_bdev / get_tree_bdev)
        check.claim("device", c.device(), "filesystem " + c.name(), "filesystem " + c.name());
        // mkfs's own rules on the device's size (a huge one if the file does not fix it)
        Long sectors = check.sectors(c.device());
        FsLayout layout;
        try {
            layout = FsLayout.mkfs(sectors == null ? Long.MAX_VALUE / 2 : sectors, logBlocks(c), inodes(c), logSectorBytes(c), agCount(c));
        } catch (FsLayoutException e) {
            throw check.error(mkfsKey(e.param()), e.getMessage());
        }
        List<FileSpec> files = files(c);
        for (int i = 0; i < files.size(); i++) {
            FileSpec f = files.get(i);
            String at = "files[" + i + "]";
            if (f.blocks() == null) {
                throw check.error(at, "missing key 'blocks'");
            }
            try {
                addFile(layout, f);
            } catch (FsLayoutException e) {
                throw check.error(at + fileKey(e.param()), e.getMessage());
            }
        }
    }

    /** The entry's key that a refused {@code mkfs} parameter comes from. */
    private static String mkfsKey(FsLayoutException.Param p) {
        switch (p) {
            case AG_COUNT:
                return "ag_count";
            case LOG_SECTOR_BYTES:
                return "log_sector_bytes";
            case LOG_BLOCKS:
                return "log_blocks";
            case INODES:
                return "inodes";
            case CAPACITY:
                return "device";
            default:
                throw new IllegalArgumentException("not a mkfs parameter: " + p);
        }
    }

    /** The key, under the file's {@code files[i]}, that a refused file parameter comes from ("" for the entry itself). */
    private static String fileKey(FsLayoutException.Param p) {
        switch (p) {
            case FILE_AG:
                return ".ag";
            case FILE_ALLOCATED_BLOCKS:
                return ".allocated_blocks";
            case FILE_NAME:
            case FILE_BLOCKS:
            case FILE_SIZE:
            case FILE_INODE:
            case FILE_SPACE:
                return "";
            default:
                throw new IllegalArgumentException("not a file parameter: " + p);
        }
    }

    /**
     * The layout {@code mkfs} gives entry {@code c} on a device of {@code sectors} (huge if
     * {@code null}), with its image's files; for the checks of the workloads that create files in it.
     * Call only for an entry that passed {@link #check}.
     */
    static FsLayout layout(Config c, Long sectors) {
        FsLayout layout = FsLayout.mkfs(sectors == null ? Long.MAX_VALUE / 2 : sectors, logBlocks(c), inodes(c),
                logSectorBytes(c), agCount(c));
        for (FileSpec f : files(c)) {
            addFile(layout, f);
        }
        return layout;
    }

    private static int logBlocks(Config c) {
        return c.logBlocks() == null ? 8 : c.logBlocks();
    }

    private static int logSectorBytes(Config c) {
        return c.logSectorBytes() == null ? Bio.PAGE_SIZE : c.logSectorBytes();
    }

    private static int agCount(Config c) {
        return c.agCount() == null ? 1 : c.agCount();
    }

    private static void addFile(FsLayout layout, FileSpec f) {
        layout.addFile(f.name(), f.blocks(), size(f), f.ag() == null ? 0 : f.ag(),
                f.allocatedBlocks() == null ? f.blocks() : f.allocatedBlocks(), Boolean.TRUE.equals(f.forkFull()));
    }

    private static int inodes(Config c) {
        return c.inodes() == null ? 16 : c.inodes();
    }

    private static List<FileSpec> files(Config c) {
        return c.files() == null ? List.of() : c.files();
    }

    private static long size(FileSpec f) {
        return f.sizeBytes() == null ? f.blocks() * Bio.PAGE_SIZE : f.sizeBytes();
    }

    @Override
    public void build(Config c, StackBuild b) {
        BlockDevice dev = b.dm().lookup(c.device());
        FsLayout layout = FsLayout.mkfs(dev.capacitySectors(), logBlocks(c), inodes(c), logSectorBytes(c), agCount(c));
        for (FileSpec f : files(c)) {
            addFile(layout, f);
        }
        b.pageCache().mount(c.name(), dev, layout, MountOptions.parse(c.options() == null ? "rw" : c.options()));
    }
}
