package dev.rescuer.storage.dm;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Platform;
import dev.rescuer.core.platform.Primitive;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.wq.Work;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.dm.crypt.CryptTarget;
import dev.rescuer.storage.dm.snapshot.DmSnapshot;
import dev.rescuer.storage.dm.snapshot.OriginTarget;
import dev.rescuer.storage.dm.snapshot.SnapshotModule;
import dev.rescuer.storage.dm.verity.VerityTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The device-mapper of one system: the block devices it can find by name, the registered target types
 * ({@code dm_register_target}), the modules' shared state (dm-snapshot's {@code _origins_lock} and
 * origin table), and {@code dmsetup create}. There is no global state: everything hangs off this
 * instance, which hangs off one {@link RescuerSystem}.
 *
 * <p><b>Who releases what</b> may be declared here as data, as an override: the simulator's hang report
 * learns an event's releasers from who signalled it earlier in the run, which says nothing of a wait
 * whose event was never signalled before the hang (a filesystem's first log commit). A target that
 * makes tasks wait on such a primitive, which only a work item of its own can release, says so
 * through {@link #declareReleaser(Primitive, Work)}, and whoever watches the system learns it through
 * {@link #onReleaser}. A wait that only a task releases (md's {@code sb_wait}, released by mdmon
 * writing {@code active}; a loop device's queue, served by its {@code loop<N>} kthread) is declared
 * with {@link #declareReleaser(Primitive, Task)} and heard through {@link #onTaskReleaser}.
 *
 * <p><b>Threading.</b> The device and type maps are concurrent maps; creating a device runs in the
 * creating task.
 */
public final class DeviceMapper {

    /** The targets every instance has: {@code linear}, dm-snapshot's {@code snapshot-origin} and {@code snapshot}, {@code verity} and {@code crypt}. */
    private static final List<TargetType<?>> BUILT_IN = List.of(LinearTarget.TYPE, OriginTarget.TYPE, DmSnapshot.TYPE, VerityTarget.TYPE,
            CryptTarget.TYPE);

    private final RescuerSystem system;
    private final ModuleParams params;
    private final ConcurrentHashMap<String, BlockDevice> devices = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, TargetType<?>> types = new ConcurrentHashMap<>();
    private final SnapshotModule snapshot;
    /** Declared (primitive, releasing work) pairs and who hears of them; see {@link Declared}. */
    private final Declared<Work> releasers = new Declared<>();
    /** Declared (primitive, releasing task) pairs and who hears of them; see {@link Declared}. */
    private final Declared<Task> taskReleasers = new Declared<>();
    /** Who waits on whom, declared by the devices and targets as they are built; its own lock. */
    private final WaitGraph waitGraph = new WaitGraph();

    /**
     * The device-mapper of {@code system}, with the built-in targets ({@code linear},
     * {@code snapshot-origin}, {@code snapshot}) registered and module parameters {@code params}.
     *
     * @throws IllegalArgumentException for an unknown module parameter or a bad value
     */
    public DeviceMapper(RescuerSystem system, ModuleParams params) {
        this.system = Objects.requireNonNull(system, "system");
        this.params = Objects.requireNonNull(params, "params");
        this.snapshot = new SnapshotModule(this, params);
        CryptTarget.checkParams(params);
        for (TargetType<?> t : BUILT_IN) {
            registerTarget(t);
        }
    }

    /** The system the devices run on. */
    public RescuerSystem system() {
        return system;
    }

    /** The system's platform. */
    public Platform platform() {
        return system.platform();
    }

    /** The module parameters. */
    public ModuleParams params() {
        return params;
    }

    /** dm-snapshot's shared state. */
    public SnapshotModule snapshotModule() {
        return snapshot;
    }

    /**
     * Registers a target type ({@code dm_register_target}).
     *
     * @throws IllegalArgumentException if a type of that name is registered
     */
    public void registerTarget(TargetType<?> type) {
        if (types.putIfAbsent(type.name(), type) != null) {
            throw new IllegalArgumentException("target type " + type.name() + " is already registered");
        }
    }

    /** The registered type called {@code name}, or {@code null}. */
    public TargetType<?> targetType(String name) {
        return types.get(name);
    }

    /**
     * Adds a device to the namespace ({@code add_disk}).
     *
     * @throws IllegalArgumentException if a device of that name exists
     */
    public void addDevice(BlockDevice device) {
        if (devices.putIfAbsent(device.name(), device) != null) {
            throw new IllegalArgumentException("device " + device.name() + " already exists");
        }
        waitGraph.node(device.name(), WaitGraph.NodeKind.DEVICE);
    }

    /**
     * The declared dependency graph of the devices in this namespace: every device, the queues the
     * targets created and what waits on what (see {@link WaitGraph} for what a target declares).
     */
    public WaitGraph waitGraph() {
        return waitGraph;
    }

    /** The device called {@code name}, or {@code null}. */
    public BlockDevice lookup(String name) {
        return devices.get(name);
    }

    /**
     * Checks a table for a device called {@code name} without building it or any system: the lines'
     * syntax, the built-in target types, and each constructor's argument rules ({@link TargetType#parse}).
     *
     * @param exists which device names exist (or will, when the table is loaded)
     * @throws IllegalArgumentException naming the line, or a {@link DmTargetException} in the kernel's words
     */
    public static void checkTable(String name, String table, java.util.function.Predicate<String> exists) {
        checkTable(name, table, exists, n -> -1);
    }

    /**
     * {@link #checkTable(String, String, java.util.function.Predicate)} where the sizes of (some of)
     * the devices are known, so that each area a target maps is checked against its device, as dm core
     * does when the table is loaded ({@code device_area_is_invalid}).
     *
     * @param sizes a device's size in sectors, or -1 if not known
     * @return the devices the table names, in order (a device named twice, twice)
     */
    public static List<String> checkTable(String name, String table, java.util.function.Predicate<String> exists,
                                          java.util.function.ToLongFunction<String> sizes) {
        Map<String, TargetType<?>> builtIn = new java.util.HashMap<>();
        for (TargetType<?> t : BUILT_IN) {
            builtIn.put(t.name(), t);
        }
        List<String> named = new ArrayList<>();
        for (TableLine line : TableLine.parseTable(table)) {
            TargetArgs args = args(builtIn, name, line, exists, sizes);
            builtIn.get(line.type()).parse(args);
            named.addAll(args.devicesNamed());
        }
        return named;
    }

    private static TargetArgs args(Map<String, TargetType<?>> types, String name, TableLine line,
                                   java.util.function.Predicate<String> exists, java.util.function.ToLongFunction<String> sizes) {
        TargetType<?> type = types.get(line.type());
        if (type == null) {
            throw new IllegalArgumentException("unknown target type '" + line.type() + "'; known: "
                    + String.join(", ", new java.util.TreeSet<>(types.keySet())));
        }
        return new TargetArgs(line.type(), name, line.start(), line.length(), line.args(), exists, sizes);
    }

    /**
     * Creates, loads and resumes a mapped device ({@code dmsetup create NAME --table TABLE}): parses
     * the table, constructs each target in the calling task (which may sleep), adds the device to the
     * namespace and resumes it.
     *
     * @throws IllegalArgumentException for a bad table, or a {@link DmTargetException} from a constructor
     */
    public MappedDevice create(String name, String table) {
        if (devices.containsKey(name)) {
            throw new IllegalArgumentException("device " + name + " already exists");
        }
        waitGraph.node(name, WaitGraph.NodeKind.DEVICE); // before the constructors declare their edges from it
        List<MappedDevice.Slot> slots = new ArrayList<>();
        for (TableLine line : TableLine.parseTable(table)) {
            slots.add(new MappedDevice.Slot(new TargetContext(this, name, line.type(), line.start(), line.length()),
                    construct(name, line)));
        }
        MappedDevice md = new MappedDevice(this, name, slots);
        addDevice(md);
        md.resume();
        return md;
    }

    @SuppressWarnings("unchecked")
    private <A> Target construct(String name, TableLine line) {
        TargetArgs a = args(types, name, line, devices::containsKey, n -> {
            BlockDevice d = devices.get(n);
            return d == null ? -1 : d.capacitySectors();
        });
        TargetType<A> type = (TargetType<A>) types.get(line.type());
        A args = type.parse(a);
        return type.construct(new TargetContext(this, name, line.type(), line.start(), line.length()), args);
    }

    /**
     * Declares that tasks waiting on {@code waitedOn} can only be released by {@code releasedBy}
     * running (for reports and the validator).
     */
    public void declareReleaser(Primitive waitedOn, Work releasedBy) {
        releasers.declare(waitedOn, releasedBy);
    }

    /** Sets who hears of declared releasers; it is told the ones declared so far at once. */
    public void onReleaser(BiConsumer<Primitive, Work> listener) {
        releasers.listen(listener);
    }

    /**
     * Declares that tasks waiting on {@code waitedOn} can only be released by the task
     * {@code releasedBy} acting (a daemon such as mdmon, a kernel thread that serves a device such as the
     * md thread or a loop device's {@code loop<N>} kthread), for
     * reports and the validator.
     */
    public void declareReleaser(Primitive waitedOn, Task releasedBy) {
        taskReleasers.declare(waitedOn, releasedBy);
    }

    /** Sets who hears of declared task releasers; it is told the ones declared so far at once. */
    public void onTaskReleaser(BiConsumer<Primitive, Task> listener) {
        taskReleasers.listen(listener);
    }

    /**
     * Declared (primitive, releaser) pairs, kept for a listener that comes later. The list is
     * lock-free (constructors in any task append); the listener is volatile, set once by the runner
     * before devices are built: a declaration made while it is being set is either in the list the
     * new listener replays or told to it directly (possibly both; listeners treat a repeat as the same
     * declaration).
     */
    private static final class Declared<R> {
        private final List<Map.Entry<Primitive, R>> pairs = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile BiConsumer<Primitive, R> listener;

        void declare(Primitive waitedOn, R releasedBy) {
            pairs.add(Map.entry(Objects.requireNonNull(waitedOn, "waitedOn"), Objects.requireNonNull(releasedBy, "releasedBy")));
            BiConsumer<Primitive, R> l = listener;
            if (l != null) {
                l.accept(waitedOn, releasedBy);
            }
        }

        void listen(BiConsumer<Primitive, R> l) {
            listener = l;
            for (Map.Entry<Primitive, R> e : pairs) {
                l.accept(e.getKey(), e.getValue());
            }
        }
    }
}
