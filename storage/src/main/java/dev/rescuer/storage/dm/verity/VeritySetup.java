package dev.rescuer.storage.dm.verity;

import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;

/**
 * {@code veritysetup format}, the userspace half: reads every data block, writes the hash tree to
 * the hash device through the block layer and returns the root digest that the table needs. Runs in
 * a task that may sleep, before the mapped device exists.
 */
public final class VeritySetup {

    private VeritySetup() {
    }

    /**
     * Formats {@code hash} for {@code data}: {@code dataBlocks} blocks of {@code dataBlockBytes},
     * hash blocks of {@code hashBlockBytes} from hash block {@code hashStart}, salted with {@code salt}.
     *
     * @return the root digest
     * @throws IllegalArgumentException if a device is too small
     * @throws IllegalStateException if an I/O fails
     */
    public static long format(BlockDevice data, BlockDevice hash, int dataBlockBytes, int hashBlockBytes, long dataBlocks,
                              long hashStart, long salt) {
        int dataSectors = dataBlockBytes / Bio.SECTOR_SIZE;
        int hashSectors = hashBlockBytes / Bio.SECTOR_SIZE;
        VerityTree tree = new VerityTree(dataBlocks, hashSectors, hashStart);
        if (data.capacitySectors() < dataBlocks * dataSectors) {
            throw new IllegalArgumentException("veritysetup: data device " + data.name() + " is smaller than " + dataBlocks + " blocks");
        }
        if (hash.capacitySectors() < tree.hashDeviceBlocks() * hashSectors) {
            throw new IllegalArgumentException("veritysetup: hash device " + hash.name() + " needs " + tree.hashDeviceBlocks()
                    + " blocks of " + hashBlockBytes + " bytes");
        }
        long[] below = new long[(int) dataBlocks]; // digests of the level below
        long[] block = new long[dataSectors];
        for (long b = 0; b < dataBlocks; b++) {
            io(BioOp.READ, data, b * dataSectors, block);
            below[(int) b] = VerityTree.hash(salt, block, 0, dataSectors);
        }
        for (int level = 0; level < tree.levels(); level++) {
            long n = tree.blocksAtLevel(level);
            long[] digests = new long[(int) n];
            for (long hb = 0; hb < n; hb++) {
                long[] content = new long[hashSectors];
                for (int i = 0; i < hashSectors; i++) {
                    long child = hb * hashSectors + i;
                    content[i] = child < below.length ? below[(int) child] : 0;
                }
                io(BioOp.WRITE, hash, tree.levelBlock(level, hb) * hashSectors, content);
                digests[(int) hb] = VerityTree.hash(salt, content, 0, hashSectors);
            }
            below = digests;
        }
        return below[0];
    }

    private static void io(BioOp op, BlockDevice dev, long sector, long[] buf) {
        Bio bio = new Bio(op, 0, dev, sector, buf.length * Bio.SECTOR_SIZE, null, null, "veritysetup");
        bio.setData(buf, 0);
        if (BlockLayer.submitBioWait(bio) != BlkStatus.OK) {
            throw new IllegalStateException("veritysetup: I/O error on " + dev.name() + " at sector " + sector);
        }
    }
}
