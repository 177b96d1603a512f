package dev.rescuer.storage.fs;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.fs.FsLayoutException.Param;

import java.util.BitSet;
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
 * {@code maxInodes} inode blocks, then data, split into {@code agCount} allocation groups of equal
 * size ({@code mkfs.xfs -d agcount=}); each file has one contiguous extent reserved in its group at
 * creation. A file may be sparse: only some blocks of its extent are allocated, the others are holes
 * that a write allocates ({@link JournalFs}, in a transaction holding the group's AGF). A file's
 * data fork may be full ({@link FileEntry#forkFull()}): its in-inode extent list has no room left
 * (a file fragmented by its history), so its next new extent converts the fork to a B+tree. In XFS
 * every AG starts with its own headers (superblock copy, AGF, AGI, AGFL); here the groups only
 * partition the data area, and the headers are the AGF lock of the mounted filesystem.
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
    private final int agCount;
    private final Map<String, FileEntry> files = new LinkedHashMap<>();
    /** Per allocation group, the next data block not reserved by a file. */
    private final long[] agNextBlock;

    /**
     * One file as the disk describes it. Its size, allocated blocks and fork format change only
     * through the mounted {@link JournalFs}, under its superblock lock (allocations also hold the
     * group's AGF, which serialises them per group).
     */
    public static final class FileEntry {
        private final long ino;
        private final String name;
        private final long startBlock;
        private final long blocks;
        private final int ag;
        /**
         * Which blocks of the extent are allocated. Written under both the AGF of the file's group and
         * the mounted filesystem's sb_lock ({@code JournalFs.allocateHoles}); read under either: the
         * AGF's holder is the only writer, so it reads the map without sb_lock.
         */
        private final BitSet allocated;
        /**
         * Blocks of the extent not allocated yet; written under the sb_lock with {@code allocated},
         * read without it. It only goes down, so a reader that sees 0 knows the file has no hole now
         * or later, and needs no lock (a write to a fully allocated file takes no extra lock).
         */
        private volatile long holes;
        private boolean forkFull;       // As allocated: written under the group's AGF and sb_lock, read under either
        private long sizeBytes;         // Guarded by the mounted filesystem's sb_lock

        FileEntry(long ino, String name, long startBlock, long blocks, long sizeBytes, int ag, long allocatedBlocks,
                  boolean forkFull) {
            this.ino = ino;
            this.name = name;
            this.startBlock = startBlock;
            this.blocks = blocks;
            this.sizeBytes = sizeBytes;
            this.ag = ag;
            this.allocated = new BitSet(Math.toIntExact(blocks));
            this.allocated.set(0, Math.toIntExact(allocatedBlocks));
            this.holes = blocks - allocatedBlocks;
            this.forkFull = forkFull;
        }

        /** The allocation group its extent lies in. */
        public int ag() {
            return ag;
        }

        /**
         * Whether block {@code index} of the file is allocated (false: a hole of a sparse file). Read
         * under the mounted filesystem's sb_lock or its group's AGF, or when no allocation can run (before mounting, or
         * in a test after its writes returned).
         */
        public boolean isAllocated(long index) {
            return index >= 0 && index < blocks && allocated.get(Math.toIntExact(index));
        }

        /** How many blocks of its extent are allocated; read as {@link #isAllocated}. */
        public long allocatedBlocks() {
            return allocated.cardinality();
        }

        /** Whether the file has no hole (read without a lock: see {@code holes}). */
        public boolean fullyAllocated() {
            return holes == 0;
        }

        void markAllocated(long index) {
            if (!allocated.get(Math.toIntExact(index))) {
                allocated.set(Math.toIntExact(index));
                holes = holes - 1;
            }
        }

        /**
         * Whether the inode's data fork is in extents format with no room for another record, so
         * that the next allocation that does not extend an existing extent converts it to a B+tree
         * ({@code xfs_bmap_needs_btree} → {@code xfs_bmap_extents_to_btree}).
         */
        public boolean forkFull() {
            return forkFull;
        }

        void convertedToBtree() {
            forkFull = false;
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

    private FsLayout(long capacityBlocks, int logBlocks, int maxInodes, int logSectorBytes, int agCount) {
        this.capacityBlocks = capacityBlocks;
        this.logSectorBytes = logSectorBytes;
        this.logBlocks = logBlocks;
        this.maxInodes = maxInodes;
        this.agCount = agCount;
        this.agNextBlock = new long[agCount];
        for (int g = 0; g < agCount; g++) {
            agNextBlock[g] = agStart(g);
        }
    }

    /**
     * An empty filesystem for a device of {@code capacitySectors}.
     *
     * @throws FsLayoutException if the log or the inode table is empty, or they do not fit
     */
    public static FsLayout mkfs(long capacitySectors, int logBlocks, int maxInodes) {
        return mkfs(capacitySectors, logBlocks, maxInodes, Bio.PAGE_SIZE);
    }

    /**
     * An empty filesystem for a device of {@code capacitySectors} whose log has sectors of
     * {@code logSectorBytes} ({@code mkfs.xfs -l sectsize=}): every log write is one log sector (see
     * {@link #logSectorBytes}).
     *
     * @throws FsLayoutException if the log or the inode table is empty, they do not fit, or the
     *     log sector size is not a power of two from 512 to 4096 bytes
     */
    public static FsLayout mkfs(long capacitySectors, int logBlocks, int maxInodes, int logSectorBytes) {
        return mkfs(capacitySectors, logBlocks, maxInodes, logSectorBytes, 1);
    }

    /**
     * Like {@link #mkfs(long, int, int, int)}, with the data area split into {@code agCount}
     * allocation groups of equal size ({@code mkfs.xfs -d agcount=}).
     *
     * @throws FsLayoutException as that method, or if {@code agCount} is below 1 or leaves a
     *     group without a block
     */
    public static FsLayout mkfs(long capacitySectors, int logBlocks, int maxInodes, int logSectorBytes, int agCount) {
        if (agCount < 1) {
            throw new FsLayoutException(Param.AG_COUNT, "mkfs: the filesystem needs at least 1 allocation group, got " + agCount);
        }
        if (logSectorBytes < Bio.SECTOR_SIZE || logSectorBytes > Bio.PAGE_SIZE || Integer.bitCount(logSectorBytes) != 1) {
            throw new FsLayoutException(Param.LOG_SECTOR_BYTES,
                    "mkfs: the log sector size must be a power of 2 from " + Bio.SECTOR_SIZE + " to "
                    + Bio.PAGE_SIZE + " bytes, got " + logSectorBytes);
        }
        if (logBlocks < 2) {
            throw new FsLayoutException(Param.LOG_BLOCKS,
                    "mkfs: the log needs at least 2 blocks (log blocks and a commit block), got " + logBlocks);
        }
        if (maxInodes < 1) {
            throw new FsLayoutException(Param.INODES, "mkfs: the inode table needs at least 1 inode, got " + maxInodes);
        }
        long blocks = capacitySectors / BLOCK_SECTORS;
        if (1 + logBlocks + maxInodes >= blocks) {
            throw new FsLayoutException(Param.CAPACITY, "mkfs: a device of " + capacitySectors + " sectors (" + blocks
                    + " blocks) cannot hold a superblock, " + logBlocks + " log blocks, " + maxInodes + " inode blocks and data");
        }
        if ((blocks - 1 - logBlocks - maxInodes) / agCount < 1) {
            throw new FsLayoutException(Param.AG_COUNT,
                    "mkfs: " + (blocks - 1 - logBlocks - maxInodes) + " data blocks cannot make "
                    + agCount + " allocation groups");
        }
        return new FsLayout(blocks, logBlocks, maxInodes, logSectorBytes, agCount);
    }

    /**
     * Adds a file with a data extent of {@code blocks} blocks and an initial size.
     *
     * @throws FsLayoutException for a duplicate or empty name, a size beyond the extent, a
     *     full inode table or a full device
     */
    public FileEntry addFile(String name, long blocks, long sizeBytes) {
        return addFile(name, blocks, sizeBytes, 0, blocks, false);
    }

    /**
     * Adds a file with a data extent of {@code blocks} blocks reserved in allocation group
     * {@code ag}, of which the first {@code allocatedBlocks} are allocated (the rest are holes, as in
     * a sparse file made by {@code truncate}), and whose data fork is full if {@code forkFull}.
     *
     * @throws FsLayoutException as {@link #addFile(String, long, long)}, for a group that does
     *     not exist or is full, or an allocated count outside {@code 0..blocks}
     */
    public FileEntry addFile(String name, long blocks, long sizeBytes, int ag, long allocatedBlocks, boolean forkFull) {
        if (name == null || name.isEmpty() || name.contains("/")) {
            throw new FsLayoutException(Param.FILE_NAME, "file name '" + name + "' must be non-empty and contain no '/'");
        }
        if (files.containsKey(name)) {
            throw new FsLayoutException(Param.FILE_NAME, "file '" + name + "' already exists");
        }
        if (blocks < 1) {
            throw new FsLayoutException(Param.FILE_BLOCKS, "file '" + name + "' needs at least 1 block, got " + blocks);
        }
        if (sizeBytes < 0 || sizeBytes > blocks * Bio.PAGE_SIZE) {
            throw new FsLayoutException(Param.FILE_SIZE,
                    "file '" + name + "': size " + sizeBytes + " does not fit its " + blocks + " blocks");
        }
        if (files.size() >= maxInodes) {
            throw new FsLayoutException(Param.FILE_INODE,
                    "file '" + name + "': the inode table is full (" + maxInodes + " inodes)");
        }
        if (blocks > Integer.MAX_VALUE) {
            throw new FsLayoutException(Param.FILE_BLOCKS,
                    "file '" + name + "': " + blocks + " blocks is more than the model holds ("
                    + Integer.MAX_VALUE + ")");
        }
        if (ag < 0 || ag >= agCount) {
            throw new FsLayoutException(Param.FILE_AG,
                    "file '" + name + "': allocation group " + ag + " does not exist (the filesystem has "
                    + agCount + ", numbered from 0)");
        }
        if (allocatedBlocks < 0 || allocatedBlocks > blocks) {
            throw new FsLayoutException(Param.FILE_ALLOCATED_BLOCKS,
                    "file '" + name + "': " + allocatedBlocks + " allocated blocks is not in 0.." + blocks);
        }
        long end = ag == agCount - 1 ? capacityBlocks : agStart(ag + 1);
        if (agNextBlock[ag] + blocks > end) {
            throw new FsLayoutException(agCount > 1 ? Param.FILE_AG : Param.FILE_SPACE, // the group is full, or the device
                    "file '" + name + "': " + blocks + " blocks do not fit; "
                    + (end - agNextBlock[ag]) + " data blocks are left" + (agCount > 1 ? " in allocation group " + ag : ""));
        }
        FileEntry e = new FileEntry(files.size() + 1L, name, agNextBlock[ag], blocks, sizeBytes, ag, allocatedBlocks, forkFull);
        agNextBlock[ag] += blocks;
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

    /** The number of allocation groups. */
    public int agCount() {
        return agCount;
    }

    private long dataStart() {
        return 1L + logBlocks + maxInodes;
    }

    /** The first data block of allocation group {@code ag}; the last group also takes the remainder. */
    private long agStart(int ag) {
        return dataStart() + ag * ((capacityBlocks - dataStart()) / agCount);
    }
}
