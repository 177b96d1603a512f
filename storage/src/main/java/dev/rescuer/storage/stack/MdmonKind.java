package dev.rescuer.storage.stack;

import dev.rescuer.storage.md.Mddev;
import dev.rescuer.storage.md.Mdmon;

import java.util.Locale;

/**
 * {@code kind: mdmon}: {@code mdmon --all}, one metadata daemon ({@link Mdmon}, a user-space task)
 * for every md array with external metadata assembled before it starts (arrays with internal
 * metadata have none, as mdadm starts none for them). {@code memory}: {@code allocates} (each event
 * faults in pages, with direct reclaim) or {@code mlocked} ({@code mlockall}, buffers allocated in
 * advance); default {@code allocates}. {@code fault_pages}: how many pages an allocating daemon
 * faults in per event; default 4. {@code wakeup}: {@code fsnotify} (an inotify watch on
 * {@code array_state}, woken by {@code kernfs_notify_workfn}) or {@code poll} ({@code select} on it,
 * woken by {@code kernfs_notify} itself); default {@code fsnotify}. Each daemon is declared the
 * releaser of its array's {@code sb_wait} (a task releaser, so a hang report's cycle goes through
 * mdmon), and with {@code fsnotify} the notify item the releaser of its inotify wait. The daemons never return; the
 * run ends without them. The invariant: every array it monitors had its metadata updated as often as
 * it went write-pending (at least once for an array that was written).
 */
public final class MdmonKind extends AbstractWorkloadKind<MdmonKind.Config> {

    /**
     * An mdmon entry.
     *
     * @param kind {@code mdmon}
     * @param name the entry's name
     * @param memory {@code allocates} or {@code mlocked}
     * @param wakeup {@code fsnotify} or {@code poll}
     * @param faultPages pages each event faults in with {@code memory: allocates}; default
     *     {@link Mdmon#FAULT_PAGES}
     */
    public record Config(String kind, String name, String memory, String wakeup,
                         @com.fasterxml.jackson.annotation.JsonProperty("fault_pages") Integer faultPages) {
    }

    /** The {@code kind: mdmon} entries. */
    public MdmonKind() {
        super("mdmon", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        if (c.memory() != null && value(Mdmon.Memory.class, c.memory(), null) == null) {
            throw check.error("memory", "'" + c.memory() + "' is not one of " + known(Mdmon.Memory.class));
        }
        if (c.wakeup() != null && value(Mdmon.Wakeup.class, c.wakeup(), null) == null) {
            throw check.error("wakeup", "'" + c.wakeup() + "' is not one of " + known(Mdmon.Wakeup.class));
        }
        if (c.faultPages() != null && c.faultPages() < 1) {
            throw check.error("fault_pages", "must be >= 1, got " + c.faultPages());
        }
    }

    /** The constant spelled {@code given} in lower case, {@code dflt} if none is given, {@code null} if none matches. */
    private static <E extends Enum<E>> E value(Class<E> type, String given, E dflt) {
        if (given == null) {
            return dflt;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(given)) {
                return e;
            }
        }
        return null;
    }

    private static String known(Class<? extends Enum<?>> type) {
        StringBuilder s = new StringBuilder();
        for (Enum<?> e : type.getEnumConstants()) {
            s.append(s.length() == 0 ? "" : ", ").append(e.name().toLowerCase(Locale.ROOT));
        }
        return s.toString();
    }

    @Override
    public void start(Config c, StackBuild b) {
        Mdmon.Memory memory = value(Mdmon.Memory.class, c.memory(), Mdmon.Memory.ALLOCATES);
        Mdmon.Wakeup wakeup = value(Mdmon.Wakeup.class, c.wakeup(), Mdmon.Wakeup.FSNOTIFY);
        for (Mddev a : b.md().arrays()) {
            if (a.external()) {
                Mdmon m = new Mdmon(a, b.system().pages(), memory, wakeup,
                        c.faultPages() == null ? Mdmon.FAULT_PAGES : c.faultPages());
                m.start();
                b.dm().declareReleaser(a.sbWait(), m.task()); // only mdmon's write of "active" clears MD_SB_CHANGE_PENDING
                m.declareWaits(b.dm().waitGraph(), b.md().kernfs().notifyQueue());
                if (wakeup == Mdmon.Wakeup.FSNOTIFY) {
                    b.dm().declareReleaser(a.sysfsState().inotifyQueue(), b.md().kernfs().notifyWork());
                }
                b.invariant(c.name() + ": " + a.name() + "'s metadata updated whenever it was written",
                        () -> !a.testSbFlag(Mddev.MD_SB_CHANGE_PENDING) && (a.inSync() || m.metadataUpdates() >= 1));
            }
        }
    }
}
