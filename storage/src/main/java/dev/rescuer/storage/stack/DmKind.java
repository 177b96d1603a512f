package dev.rescuer.storage.stack;

import dev.rescuer.storage.dm.DeviceMapper;

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
        try {
            DeviceMapper.checkTable(name, table, check::deviceExists);
        } catch (IllegalArgumentException e) {
            throw check.error("table", e.getMessage());
        }
    }

    @Override
    public void build(Config c, StackBuild b) {
        b.dm().create(c.name(), c.table());
    }
}
