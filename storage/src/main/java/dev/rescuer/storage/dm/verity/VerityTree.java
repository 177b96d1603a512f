package dev.rescuer.storage.dm.verity;

/**
 * The geometry of a dm-verity hash tree ({@code verity_ctr}'s level computation, {@code
 * verity_hash_at_level}) and the model's hash function.
 *
 * <p>The model stores one long per sector, so a digest is one long and a hash block of
 * {@code hashBlockSize} bytes holds {@code hashBlockSize / 512} digests ({@code hash_per_block}).
 * Level 0 holds the digests of the data blocks, level {@code i + 1} those of level {@code i}'s hash
 * blocks, up to a level of one block, whose digest is the root digest. As in the kernel, the top
 * level is stored first, from {@code hash_start} on.
 *
 * <p>The hash is a salted 64-bit mix (SplitMix64's finaliser over every long), standing for the
 * table's {@code sha256}: the model needs a digest that changes with any change of the block, not a
 * cryptographic one.
 */
public final class VerityTree {

    private final long dataBlocks;
    private final int hashPerBlock;
    private final int levels;
    private final long[] hashLevelBlock;
    private final long hashBlocks;

    /**
     * The tree of {@code dataBlocks} data blocks with {@code hashPerBlock} digests per hash block,
     * starting at hash block {@code hashStart}.
     */
    public VerityTree(long dataBlocks, int hashPerBlock, long hashStart) {
        this.dataBlocks = dataBlocks;
        this.hashPerBlock = hashPerBlock;
        int l = 1;
        while (blocksAtLevel(l - 1) > 1) {
            l++;
        }
        this.levels = l;
        this.hashLevelBlock = new long[levels];
        long position = hashStart;
        for (int i = levels - 1; i >= 0; i--) {
            hashLevelBlock[i] = position;
            position += blocksAtLevel(i);
        }
        this.hashBlocks = position;
    }

    /** Hash blocks at {@code level}: the digests of the level below, {@code hash_per_block} to a block. */
    long blocksAtLevel(int level) {
        long n = dataBlocks;
        for (int i = 0; i <= level; i++) {
            n = (n + hashPerBlock - 1) / hashPerBlock;
        }
        return Math.max(1, n);
    }

    /** The number of levels ({@code v->levels}). */
    public int levels() {
        return levels;
    }

    /** The hash device's size in hash blocks, including what precedes {@code hash_start}. */
    public long hashDeviceBlocks() {
        return hashBlocks;
    }

    /** The hash block holding the digest of {@code block} at {@code level} ({@code verity_hash_at_level}). */
    public long hashBlock(long block, int level) {
        return hashLevelBlock[level] + position(block, level) / hashPerBlock;
    }

    /** Hash block {@code index} of {@code level}, on the hash device. */
    public long levelBlock(int level, long index) {
        return hashLevelBlock[level] + index;
    }

    /** The digest's index in that hash block. */
    public int offset(long block, int level) {
        return (int) (position(block, level) % hashPerBlock);
    }

    private long position(long block, int level) {
        long p = block;
        for (int i = 0; i < level; i++) {
            p /= hashPerBlock;
        }
        return p;
    }

    /** The model's digest of {@code len} longs of {@code data} from {@code off}, salted ({@code verity_hash}). */
    public static long hash(long salt, long[] data, int off, int len) {
        long h = salt ^ 0x9e3779b97f4a7c15L;
        for (int i = 0; i < len; i++) {
            h = mix(h + data[off + i] + i);
        }
        return mix(h ^ len);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
