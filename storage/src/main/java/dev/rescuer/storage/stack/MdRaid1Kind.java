package dev.rescuer.storage.stack;

import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.md.Mddev;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * {@code kind: md-raid1}: {@code mdadm --assemble} of a raid1 array ({@link Mddev}) over the
 * {@code members} (at least one, each a block device, none named twice), with {@code metadata:
 * external} (IMSM: user space, {@code mdmon}, writes the superblock and clears
 * {@code MD_SB_CHANGE_PENDING}) or {@code internal} (native metadata: the array's md thread does it,
 * Mariusz Tkaczyk's proposal for IMSM); default {@code external}. The array is a block device others
 * may stack on (a filesystem, a writer). Every array shares the run's {@code md_wq} and sysfs
 * ({@link MdSetup}). With internal metadata the md thread is declared the releaser of the array's
 * {@code sb_wait} (a task releaser, for hang reports).
 */
public final class MdRaid1Kind extends AbstractDeviceKind<MdRaid1Kind.Config> {

    /**
     * An md raid1 entry.
     *
     * @param kind {@code md-raid1}
     * @param name the array's name ({@code md126})
     * @param members the mirrors, in order
     * @param metadata {@code external} or {@code internal}; default {@code external}
     */
    public record Config(String kind, String name, List<String> members, String metadata) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: md-raid1} entries. */
    public MdRaid1Kind() {
        super("md-raid1", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        if (c.members() == null || c.members().isEmpty()) {
            throw check.error("members", "missing key 'members' (a list of at least one device)");
        }
        var seen = new HashSet<String>();
        for (int i = 0; i < c.members().size(); i++) {
            String m = c.members().get(i);
            check.requireDevice(m, "members[" + i + "]", c.name());
            if (!seen.add(m)) {
                throw check.error("members[" + i + "]", "device " + m + " is already a member of " + c.name());
            }
            Long size = check.sectors(m);
            if (size != null && size <= Mddev.METADATA_SECTORS) {
                throw check.error("members[" + i + "]", Mddev.tooSmall(c.name(), m, size));
            }
            check.claim("members[" + i + "]", m, "md " + c.name(), "md array " + c.name()); // md_import_device: lock_rdev
        }
        external(c, check);
    }

    /**
     * The array's size: its smallest member's, less the superblock (md's {@code dev_sectors}); a
     * larger member's excess is unused, as md does.
     */
    @Override
    public Long sectors(Config c, StackCheck check) {
        long min = Long.MAX_VALUE;
        for (String m : c.members()) {
            Long s = check.sectors(m);
            if (s == null) {
                return null;
            }
            min = Math.min(min, s);
        }
        return min - Mddev.METADATA_SECTORS;
    }

    private static boolean external(Config c, StackCheck check) {
        String m = c.metadata() == null ? "external" : c.metadata();
        return switch (m) {
            case "external" -> true;
            case "internal" -> false;
            default -> throw check.error("metadata", "'" + m + "' is neither external nor internal");
        };
    }

    @Override
    public void build(Config c, StackBuild b) {
        List<BlockDevice> mirrors = new ArrayList<>();
        for (String m : c.members()) {
            mirrors.add(b.dm().lookup(m));
        }
        Mddev a = b.md().raid1(c.name(), mirrors, c.metadata() == null || c.metadata().equals("external"));
        b.dm().addDevice(a);
        if (!a.external()) {
            b.dm().declareReleaser(a.sbWait(), a.thread().task()); // md_update_sb clears MD_SB_CHANGE_PENDING
        }
        a.declareWaits(b.dm().waitGraph());
    }
}
