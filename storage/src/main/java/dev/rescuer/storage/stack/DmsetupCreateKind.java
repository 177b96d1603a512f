package dev.rescuer.storage.stack;

import java.util.List;

/**
 * {@code kind: dmsetup-create}: a task that creates a mapped device while the workload runs
 * ({@code lvcreate -s} ends in {@code dmsetup create}, that is the targets' constructors, such as
 * {@code snapshot_ctr}, in the calling task).
 */
public final class DmsetupCreateKind extends AbstractWorkloadKind<DmsetupCreateKind.Config> {

    /**
     * A device created at run time.
     *
     * @param kind {@code dmsetup-create}
     * @param name the task's name ({@code lvcreate})
     * @param device the new device's name
     * @param table its {@code dmsetup} table
     * @param startMs when the task starts, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     */
    public record Config(String kind, String name, String device, String table,
                         @com.fasterxml.jackson.annotation.JsonProperty("start_ms") MsRange startMs) {
    }

    /** The {@code kind: dmsetup-create} entries. */
    public DmsetupCreateKind() {
        super("dmsetup-create", Config.class);
    }

    @Override
    public List<String> createsDevices(Config c) {
        return c.device() == null ? List.of() : List.of(c.device());
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        check.require(c.device(), "device");
        StartDelay.check(c.startMs(), check);
        DmKind.checkTable(c.device(), c.table(), check);
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            b.dm().create(c.device(), c.table());
        });
    }
}
