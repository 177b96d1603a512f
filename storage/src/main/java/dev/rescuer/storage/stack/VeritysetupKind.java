package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.dm.verity.VeritySetup;
import dev.rescuer.storage.dm.verity.VerityTarget;

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

    @Override
    public void check(Config c, StackCheck check) {
        check.requireDevice(c.data(), "data", c.name());
        check.requireDevice(c.hash(), "hash", c.name());
        refuseBufferedLoop(c.data(), "data", check);
        refuseBufferedLoop(c.hash(), "hash", check);
        if (c.blocks() == null) {
            return; // the table is checked against the device's size at set-up
        }
        DmKind.checkTable(c.name(), table(c, c.blocks(), 0), check);
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
            lower = java.util.Arrays.asList(v.data(), v.hash());
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
        int dbs = c.dataBlockSize() == null ? 4096 : c.dataBlockSize();
        int hbs = c.hashBlockSize() == null ? 4096 : c.hashBlockSize();
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
