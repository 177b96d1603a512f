package dev.rescuer.storage.stack;

import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.TableLine;

import java.util.List;

/**
 * {@code kind: dm}: a mapped device given as a {@code dmsetup} table ({@code table: "0 4096
 * snapshot-origin sda"}, several lines allowed), checked by the targets' own argument rules and
 * created at set-up with {@link DeviceMapper#create}.
 */
public final class DmKind extends AbstractDeviceKind<DmKind.Config> {

    /**
     * A mapped-device entry.
     *
     * @param kind {@code dm}
     * @param name the device name
     * @param table the {@code dmsetup} table
     */
    public record Config(String kind, String name, String table) implements AbstractDeviceKind.Entry {
    }

    /** The {@code kind: dm} entries. */
    public DmKind() {
        super("dm", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        checkTable(c.name(), c.table(), check);
    }

    /** Checks a table with the targets' argument rules, reporting at the entry's {@code table} key. */
    static void checkTable(String name, String table, StackCheck check) {
        check.require(table, "table");
        List<String> named;
        try {
            named = DeviceMapper.checkTable(name, table, check::deviceExists, d -> {
                Long s = check.sectors(d);
                return s == null ? -1 : s;
            });
        } catch (IllegalArgumentException e) {
            throw check.error("table", e.getMessage());
        }
        for (String d : named) {
            check.claim("table", d, DM_HOLDER, "the dm table of " + name); // dm_get_device, holder _dm_claim_ptr
        }
    }

    /** The holder every dm table opens its devices with ({@code _dm_claim_ptr}). */
    static final String DM_HOLDER = "device-mapper";

    /** The length of a checked table in sectors: where its last line ends. */
    static long tableSectors(String table) {
        List<TableLine> lines = TableLine.parseTable(table);
        TableLine last = lines.get(lines.size() - 1);
        return last.start() + last.length();
    }

    @Override
    public Long sectors(Config c, StackCheck check) {
        return tableSectors(c.table());
    }

    @Override
    public void build(Config c, StackBuild b) {
        b.dm().create(c.name(), c.table());
    }
}
