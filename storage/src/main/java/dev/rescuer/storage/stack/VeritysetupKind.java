package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.verity.VeritySetup;
import dev.rescuer.storage.dm.verity.VerityTarget;
import dev.rescuer.storage.dm.verity.VerityTree;

import java.util.Arrays;
import java.util.List;

/**
 * {@code kind: veritysetup}: {@code veritysetup format} followed by {@code veritysetup open}: at set-up
 * the hash tree of {@code data} is written to {@code hash}, and a {@code verity} device is created
 * with the table that carries the root digest (checked, like every table, by the target's rules).
 * A data or hash device that is, or stacks on, a buffered loop device is refused at its key: the
 * model's buffered loop moves no data, so every verity read would fail (docs/STORAGE.md, loop).
 */
public final class VeritysetupKind extends AbstractDeviceKind<VeritysetupKind.Config> {

    /**
     * A verity device.
     *
     * @param kind {@code veritysetup}
     * @param name the mapped device's name
     * @param data the data device
     * @param hash the hash device
     * @param dataBlockSize bytes per data block; default 4096
     * @param hashBlockSize bytes per hash block; default 4096
     * @param blocks data blocks; default all of the data device
     * @param salt the salt, 16 hex digits, or {@code -}; default {@code -}
     * @param options the table's optional parameters ({@code try_verify_in_tasklet}, {@code kverityd_flags=...})
     */
    public record Config(String kind, String name, String data, String hash,
                         @JsonProperty("data_block_size") Integer dataBlockSize,
                         @JsonProperty("hash_block_size") Integer hashBlockSize, Long blocks, String salt, List<String> options) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: veritysetup} entries. */
    public VeritysetupKind() {
        super("veritysetup", Config.class);
    }

    /**
     * The most data blocks {@code veritysetup format} hashes in a run's set-up (it reads every one):
     * 2^20, 4 GiB of 4 KiB blocks.
     */
    static final long MAX_BLOCKS = 1L << 20;

    @Override
    public void check(Config c, StackCheck check) {
        check.requireDevice(c.data(), "data", c.name());
        check.requireDevice(c.hash(), "hash", c.name());
        refuseBufferedLoop(c.data(), "data", check);
        refuseBufferedLoop(c.hash(), "hash", check);
        // verity_ctr's block-size rule, at the key (before any size is divided by it)
        if (c.dataBlockSize() != null && !VerityTarget.validBlockSize(c.dataBlockSize())) {
            throw check.error("data_block_size", "Invalid data device block size: must be a power of 2 from "
                    + Bio.SECTOR_SIZE + " to " + Bio.PAGE_SIZE + " (PAGE_SIZE) bytes, got " + c.dataBlockSize());
        }
        if (c.hashBlockSize() != null && !VerityTarget.validBlockSize(c.hashBlockSize())) {
            throw check.error("hash_block_size", "Invalid hash device block size: must be a power of 2 from "
                    + Bio.SECTOR_SIZE + " to " + Bio.PAGE_SIZE + " (PAGE_SIZE) bytes, got " + c.hashBlockSize());
        }
        if (c.salt() != null && !c.salt().equals("-") && !c.salt().matches("[0-9a-fA-F]{16}")) {
            throw check.error("salt", "Invalid salt: the model's salt is 16 hex digits, or '-' for none; got '" + c.salt() + "'");
        }
        if (c.blocks() != null && c.blocks() < 1) {
            throw check.error("blocks", "must be >= 1, got " + c.blocks());
        }
        long blocks = blocks(c, check.sectors(c.data()));
        if (blocks < 1) {
            throw check.error("data", "data device " + c.data() + " (" + check.sectors(c.data()) + " sectors) holds no block of "
                    + dataBlockSize(c) + " bytes");
        }
        if (blocks > MAX_BLOCKS) {
            throw check.error(c.blocks() != null ? "blocks" : "data", "veritysetup format in the model hashes at most "
                    + MAX_BLOCKS + " data blocks, got " + blocks);
        }
        // veritysetup format (VERITY_create) refuses devices too small for the data or the tree
        Long dataSectors = check.sectors(c.data());
        long needData = blocks * (dataBlockSize(c) / Bio.SECTOR_SIZE);
        if (dataSectors != null && dataSectors < needData) {
            throw check.error("blocks", "veritysetup: data device " + c.data() + " is too small: " + blocks + " blocks of "
                    + dataBlockSize(c) + " bytes need " + needData + " sectors, it has " + dataSectors);
        }
        int hashSectors = hashBlockSize(c) / Bio.SECTOR_SIZE;
        long needHash = new VerityTree(blocks, hashSectors, 0).hashDeviceBlocks();
        Long hashDev = check.sectors(c.hash());
        if (hashDev != null && hashDev / hashSectors < needHash) {
            throw check.error("hash", "veritysetup: hash device " + c.hash() + " is too small: the tree of " + blocks
                    + " data blocks needs " + needHash + " hash blocks of " + hashBlockSize(c) + " bytes (" + needHash * hashSectors
                    + " sectors), it has " + hashDev + " sectors");
        }
        DmKind.checkTable(c.name(), table(c, blocks, 0), check);
    }

    private static int dataBlockSize(Config c) {
        return c.dataBlockSize() == null ? 4096 : c.dataBlockSize();
    }

    private static int hashBlockSize(Config c) {
        return c.hashBlockSize() == null ? 4096 : c.hashBlockSize();
    }

    /** The data blocks: {@code blocks}, else all of a data device of {@code dataSectors} (1 if unknown). */
    private static long blocks(Config c, Long dataSectors) {
        if (c.blocks() != null) {
            return c.blocks();
        }
        return dataSectors == null ? 1 : dataSectors / (dataBlockSize(c) / Bio.SECTOR_SIZE);
    }

    @Override
    public Long sectors(Config c, StackCheck check) {
        return blocks(c, check.sectors(c.data())) * (dataBlockSize(c) / Bio.SECTOR_SIZE);
    }

    /**
     * Refuses, at {@code key}, a data or hash device that is, or stacks on, a buffered loop device:
     * the model's page cache carries no contents, so a buffered loop device moves no data (only direct
     * I/O does), and verity, which hashes what it reads, would fail every read.
     */
    private static void refuseBufferedLoop(String device, String key, StackCheck check) {
        String loop = bufferedLoopUnder(device, check, 0);
        if (loop != null) {
            throw check.error(key, "verity checks the contents of " + device + ", but "
                    + (loop.equals(device) ? "it" : "it stacks on loop device '" + loop + "', which")
                    + " is a buffered loop device (direct_io: false), and a buffered loop device moves no data in this model "
                    + "(the page cache carries none): every read would fail verification; set direct_io: true on " + loop);
        }
    }

    /** The first buffered loop device {@code device} is or stacks on, or {@code null}. */
    private static String bufferedLoopUnder(String device, StackCheck check, int depth) {
        Object e = check.entry(device);
        if (depth > 64 || e == null) {
            return null;
        }
        List<String> lower = List.of();
        if (e instanceof LoopKind.Config l) {
            return Boolean.TRUE.equals(l.directIo()) ? null : l.name();
        } else if (e instanceof DmKind.Config d && d.table() != null) {
            lower = List.of(d.table().trim().split("\\s+")); // the devices a table names are its tokens that name devices
        } else if (e instanceof Config v) {
            lower = Arrays.asList(v.data(), v.hash());
        } else if (e instanceof MdRaid1Kind.Config m && m.members() != null) {
            lower = m.members();
        }
        for (String t : lower) {
            if (t != null && !t.equals(device) && check.deviceExists(t)) {
                String found = bufferedLoopUnder(t, check, depth + 1);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    private static String table(Config c, long blocks, long root) {
        int dbs = dataBlockSize(c);
        int hbs = hashBlockSize(c);
        List<String> opts = c.options() == null ? List.of() : c.options();
        return "0 " + blocks * (dbs / Bio.SECTOR_SIZE) + " verity 1 " + c.data() + " " + c.hash() + " " + dbs + " " + hbs + " "
                + blocks + " 0 sha256 " + VerityTarget.hex(root) + " " + (c.salt() == null ? "-" : c.salt())
                + (opts.isEmpty() ? "" : " " + opts.size() + " " + String.join(" ", opts));
    }

    @Override
    public void build(Config c, StackBuild b) {
        BlockDevice data = b.dm().lookup(c.data());
        BlockDevice hash = b.dm().lookup(c.hash());
        int dbs = c.dataBlockSize() == null ? 4096 : c.dataBlockSize();
        int hbs = c.hashBlockSize() == null ? 4096 : c.hashBlockSize();
        long blocks = c.blocks() != null ? c.blocks() : data.capacitySectors() / (dbs / Bio.SECTOR_SIZE);
        long salt = c.salt() == null || c.salt().equals("-") ? 0 : Long.parseUnsignedLong(c.salt(), 16);
        long root = VeritySetup.format(data, hash, dbs, hbs, blocks, 0, salt);
        b.dm().create(c.name(), table(c, blocks, root));
    }
}
