package dev.rescuer.storage.stack;

import dev.rescuer.storage.dm.ModuleParams;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One variant of a stack file, checked and bound: what a runner builds. {@link #build} creates the
 * devices in file order and starts the workload's tasks.
 */
public final class ResolvedStack {

    /** The values of {@code system.page_cache_shrinker}. */
    static final String FIRST_MOUNT = "first-mount";
    static final String AFTER_DEVICES = "after-devices";

    /** A bound entry and the kind that binds and builds it. */
    record Entry<K, C>(K kind, C config) {
    }

    private final StackSpec spec;
    private final ModuleParams params;
    private final List<Entry<DeviceKind<?>, Object>> devices;
    private final List<Entry<WorkloadKind<?>, Object>> workload;

    ResolvedStack(StackSpec spec, ModuleParams params, List<Entry<DeviceKind<?>, Object>> devices,
                  List<Entry<WorkloadKind<?>, Object>> workload) {
        this.spec = spec;
        this.params = params;
        this.devices = List.copyOf(devices);
        this.workload = List.copyOf(workload);
    }

    /** The bound top level (after the variant's overrides). */
    public StackSpec spec() {
        return spec;
    }

    /** The module parameters. */
    public ModuleParams moduleParams() {
        return params;
    }

    /** CPUs; default 2. */
    public int cpus() {
        return spec.system() == null || spec.system().cpus() == null ? 2 : spec.system().cpus();
    }

    /** {@code system.memory.pages} when not given. */
    static final long DEFAULT_PAGES = 4096;

    /**
     * The largest {@code explore.timer_jitter_ms}: a timer that fires later than this could hold a
     * task's wait past the hung-task timeout only because of the jitter.
     */
    static final int MAX_TIMER_JITTER_MS = 1000;

    /** Total pages; default 4096. */
    public long pages() {
        StackSpec.MemorySpec m = memory();
        return m == null || m.pages() == null ? DEFAULT_PAGES : m.pages();
    }

    /** {@code [min, low, high]}, or {@code null} for the allocator's defaults. */
    public List<Long> watermarks() {
        StackSpec.MemorySpec m = memory();
        return m == null ? null : m.watermarks();
    }

    /** Pages per thread start; default 4. */
    public int pagesPerThread() {
        StackSpec.MemorySpec m = memory();
        return m == null || m.pagesPerThread() == null ? 4 : m.pagesPerThread();
    }

    /** Whether every NOFS context also clears {@code __GFP_IO} ({@code system.merge_nofs_noio}); default false. */
    public boolean mergeNofsNoio() {
        return spec.system() != null && Boolean.TRUE.equals(spec.system().mergeNofsNoio());
    }

    /** Whether the machine runs {@code kswapd} ({@code system.kswapd}); default true. */
    public boolean kswapd() {
        return spec.system() == null || spec.system().kswapd() == null || spec.system().kswapd();
    }

    /**
     * Whether the page cache's shrinker is registered once every device is built
     * ({@code system.page_cache_shrinker: after-devices}) rather than at the first mount (the default).
     */
    public boolean pageCacheShrinkerAfterDevices() {
        return spec.system() != null && AFTER_DEVICES.equals(spec.system().pageCacheShrinker());
    }

    /** The hung-task timeout in seconds; default 120. */
    public int hungTaskTimeoutSeconds() {
        return spec.system() == null || spec.system().hungTaskTimeoutS() == null ? 120 : spec.system().hungTaskTimeoutS();
    }

    /** Queue name to rescuer domain ({@code system.rescuer_domains}); empty if not given. */
    public Map<String, String> rescuerDomains() {
        return spec.system() == null || spec.system().rescuerDomains() == null ? Map.of() : spec.system().rescuerDomains();
    }

    /** The forms {@code system.faults.worker_create} takes, for error messages. */
    static final String WORKER_CREATE_FORMS = "ok, fail, or 'fail after LO..HI' (0 <= LO <= HI; 'fail after N' for exactly N)";

    private static final Pattern FAIL_AFTER = Pattern.compile("fail after (\\d{1,9})(?:\\.\\.(\\d{1,9}))?");

    /**
     * How many pool-worker creations succeed before every later one fails
     * ({@code system.faults.worker_create: fail after LO..HI}): each run draws the number from
     * {@code lo..hi}, both included.
     */
    public record WorkerCreateBudget(int lo, int hi) {
    }

    /**
     * Reads a {@code system.faults.worker_create} value: {@code ok} and {@code fail} give
     * {@code null} (see {@link #workerCreateFails()}), {@code fail after LO..HI} its budget.
     *
     * @throws IllegalArgumentException naming the problem, for any other value or {@code LO > HI}
     */
    static WorkerCreateBudget parseWorkerCreate(String value) {
        if ("ok".equals(value) || "fail".equals(value)) {
            return null;
        }
        Matcher m = FAIL_AFTER.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("must be " + WORKER_CREATE_FORMS + ", got '" + value + "'");
        }
        int lo = Integer.parseInt(m.group(1));
        int hi = m.group(2) == null ? lo : Integer.parseInt(m.group(2));
        if (lo > hi) {
            throw new IllegalArgumentException("'" + value + "': the range's low end " + lo + " is above its high end " + hi);
        }
        return new WorkerCreateBudget(lo, hi);
    }

    private String workerCreate() {
        return spec.system() == null || spec.system().faults() == null ? null : spec.system().faults().workerCreate();
    }

    /**
     * Whether every worker a pool's manager creates fails ({@code system.faults.worker_create: fail});
     * default false.
     */
    public boolean workerCreateFails() {
        return "fail".equals(workerCreate());
    }

    /**
     * The budget of pool-worker creations after which every one fails
     * ({@code system.faults.worker_create: fail after LO..HI}), or {@code null} if not set.
     */
    public WorkerCreateBudget workerCreateFailsAfter() {
        String v = workerCreate();
        return v == null ? null : parseWorkerCreate(v);
    }

    /** PCT's {@code k}; default 500. */
    public long estimatedSteps() {
        return spec.explore() == null || spec.explore().estimatedSteps() == null ? 500 : spec.explore().estimatedSteps();
    }

    /** The timer jitter in milliseconds; default 0. */
    public int timerJitterMs() {
        return spec.explore() == null || spec.explore().timerJitterMs() == null ? 0 : spec.explore().timerJitterMs();
    }

    /** The file's {@code explore.demo_schedules}, or {@code null}. */
    public Integer demoSchedules() {
        return spec.explore() == null ? null : spec.explore().demoSchedules();
    }

    private StackSpec.MemorySpec memory() {
        return spec.system() == null ? null : spec.system().memory();
    }

    /**
     * Builds the devices in order, tells {@code build} they are built ({@link StackBuild#devicesBuilt}),
     * then starts the workload. Runs in a run's setup task.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void build(StackBuild build) {
        for (Entry<DeviceKind<?>, Object> d : devices) {
            ((DeviceKind) d.kind()).build(d.config(), build);
        }
        build.devicesBuilt();
        for (Entry<WorkloadKind<?>, Object> w : workload) {
            ((WorkloadKind) w.kind()).start(w.config(), build);
        }
    }
}
