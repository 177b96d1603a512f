package dev.rescuer.storage.fs;

import dev.rescuer.storage.block.Bio;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code mkfs} put on the device and what the journal has committed since: the superblock, the
 * log region, one inode block per file and each file's data extent.
 *
 * <p>Bios in this model carry no data, so the metadata a real device would hold lives here, as plain
 * Java state that only the filesystem changes: a file's size here is its size on disk, updated when a
 * journal commit reaches the disk. The filesystem still issues the I/O (inode reads, log writes) so
 * that it waits where the kernel waits.
 *
 * <p>Layout in 4 KiB blocks: block 0 the superblock, then {@code logBlocks} of log, then
 * {@code maxInodes} inode blocks, then data, each file one contiguous extent allocated at creation.
 *
 * <p>Not thread-safe: built before mounting, then changed only by the mounted {@link JournalFs}
 * under its superblock lock.
 */
public final class FsLayout {

    /** Sectors per filesystem block (4 KiB, the page size). */
    public static final int BLOCK_SECTORS = Bio.PAGE_SIZE / Bio.SECTOR_SIZE;

    private final long capacityBlocks;
    private final int logBlocks;
    private final int maxInodes;
    private final int logSectorBytes;
    private final Map<String, FileEntry> files = new LinkedHashMap<>();
    private long nextDataBlock;

    /** One file as the disk describes it. */
    public static final class FileEntry {
        private final long ino;
        private final String name;
        private final long startBlock;
        private final long blocks;
        private long sizeBytes;

        FileEntry(long ino, String name, long startBlock, long blocks, long sizeBytes) {
            this.ino = ino;
            this.name = name;
            this.startBlock = startBlock;
            this.blocks = blocks;
            this.sizeBytes = sizeBytes;
        }

        /** The inode number. */
        public long ino() {
            return ino;
        }

        /** The file's name. */
        public String name() {
            return name;
        }

        /** The first block of its data extent. */
        public long startBlock() {
            return startBlock;
        }

        /** The length of its data extent in blocks: the most it can hold. */
        public long blocks() {
            return blocks;
        }

        /** Its size on disk, in bytes. */
        public long sizeBytes() {
            return sizeBytes;
        }

        void setSizeBytes(long size) {
            this.sizeBytes = size;
        }
    }

    private FsLayout(long capacityBlocks, int logBlocks, int maxInodes, int logSectorBytes) {
        this.capacityBlocks = capacityBlocks;
        this.logSectorBytes = logSectorBytes;
        this.logBlocks = logBlocks;
        this.maxInodes = maxInodes;
        this.nextDataBlock = dataStart();
    }

    /**
     * An empty filesystem for a device of {@code capacitySectors}.
     *
     * @throws IllegalArgumentException if the log or the inode table is empty, or they do not fit
     */
    public static FsLayout mkfs(long capacitySectors, int logBlocks, int maxInodes) {
        return mkfs(capacitySectors, logBlocks, maxInodes, Bio.PAGE_SIZE);
    }

    /**
     * An empty filesystem for a device of {@code capacitySectors} whose log has sectors of
     * {@code logSectorBytes} ({@code mkfs.xfs -l sectsize=}): every log write is one log sector (see
     * {@link #logSectorBytes}).
     *
     * @throws IllegalArgumentException if the log or the inode table is empty, they do not fit, or the
     *     log sector size is not a power of two from 512 to 4096 bytes
     */
    public static FsLayout mkfs(long capacitySectors, int logBlocks, int maxInodes, int logSectorBytes) {
        if (logSectorBytes < Bio.SECTOR_SIZE || logSectorBytes > Bio.PAGE_SIZE || Integer.bitCount(logSectorBytes) != 1) {
            throw new IllegalArgumentException("mkfs: the log sector size must be a power of 2 from " + Bio.SECTOR_SIZE + " to "
                    + Bio.PAGE_SIZE + " bytes, got " + logSectorBytes);
        }
        if (logBlocks < 2) {
            throw new IllegalArgumentException("mkfs: the log needs at least 2 blocks (log blocks and a commit block), got " + logBlocks);
        }
        if (maxInodes < 1) {
            throw new IllegalArgumentException("mkfs: the inode table needs at least 1 inode, got " + maxInodes);
        }
        long blocks = capacitySectors / BLOCK_SECTORS;
        if (1 + logBlocks + maxInodes >= blocks) {
            throw new IllegalArgumentException("mkfs: a device of " + capacitySectors + " sectors (" + blocks
                    + " blocks) cannot hold a superblock, " + logBlocks + " log blocks, " + maxInodes + " inode blocks and data");
        }
        return new FsLayout(blocks, logBlocks, maxInodes, logSectorBytes);
    }

    /**
     * Adds a file with a data extent of {@code blocks} blocks and an initial size.
     *
     * @throws IllegalArgumentException for a duplicate or empty name, a size beyond the extent, a
     *     full inode table or a full device
     */
    public FileEntry addFile(String name, long blocks, long sizeBytes) {
        if (name == null || name.isEmpty() || name.contains("/")) {
            throw new IllegalArgumentException("file name '" + name + "' must be non-empty and contain no '/'");
        }
        if (files.containsKey(name)) {
            throw new IllegalArgumentException("file '" + name + "' already exists");
        }
        if (blocks < 1) {
            throw new IllegalArgumentException("file '" + name + "' needs at least 1 block, got " + blocks);
        }
        if (sizeBytes < 0 || sizeBytes > blocks * Bio.PAGE_SIZE) {
            throw new IllegalArgumentException("file '" + name + "': size " + sizeBytes + " does not fit its " + blocks + " blocks");
        }
        if (files.size() >= maxInodes) {
            throw new IllegalArgumentException("file '" + name + "': the inode table is full (" + maxInodes + " inodes)");
        }
        if (nextDataBlock + blocks > capacityBlocks) {
            throw new IllegalArgumentException("file '" + name + "': " + blocks + " blocks do not fit; "
                    + (capacityBlocks - nextDataBlock) + " data blocks are left");
        }
        FileEntry e = new FileEntry(files.size() + 1L, name, nextDataBlock, blocks, sizeBytes);
        nextDataBlock += blocks;
        files.put(name, e);
        return e;
    }

    /** The file named {@code name}, or {@code null}. */
    public FileEntry file(String name) {
        return files.get(name);
    }

    /** Every file, in creation order. */
    public Collection<FileEntry> files() {
        return Collections.unmodifiableCollection(files.values());
    }

    /** The device size this layout needs, in sectors. */
    public long capacitySectors() {
        return capacityBlocks * BLOCK_SECTORS;
    }

    /**
     * The log's sector size in bytes. A log write ({@code xlog_sync}) is the iclog's used part rounded
     * up to the log's sector size ({@code l_iclog_roundoff}, the log stripe unit if there is one); the
     * model's log records are small, so each write is one log sector at the start of its log block.
     */
    public int logSectorBytes() {
        return logSectorBytes;
    }

    /** The number of log blocks. */
    public int logBlocks() {
        return logBlocks;
    }

    /** The first sector of log block {@code i}. */
    public long logSector(int i) {
        return (1L + i) * BLOCK_SECTORS;
    }

    /** The sector of inode {@code ino}'s block. */
    public long inodeSector(long ino) {
        return (1L + logBlocks + (ino - 1)) * BLOCK_SECTORS;
    }

    private long dataStart() {
        return 1L + logBlocks + maxInodes;
    }
}
