package dev.rescuer.storage.runner;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.Releaser;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.bufio.DmBufioClient;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.MdSetup;
import dev.rescuer.storage.stack.PageCacheSetup;
import dev.rescuer.storage.stack.ResolvedStack;
import dev.rescuer.storage.stack.StackBuild;
import dev.rescuer.storage.stack.StackFile;
import dev.rescuer.storage.stack.SwapSetup;
import dev.rescuer.core.mm.Reclaimer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A stack file as a simulator {@link Scenario}: each run builds the variant's system (CPUs, pages,
 * watermarks, thread cost), its device-mapper with the module parameters, the devices in file order,
 * and starts the workload; the file's timer jitter goes to the run's fault injection; without
 * {@code system.kswapd} the system has no background reclaim; with
 * {@code system.faults.worker_create: fail}, every worker creation after boot fails (with {@code fail
 * after LO..HI}, every one after the first N, N drawn per run from the fault stream). Who can release
 * what the hang report learns from the run's signallers; a target's declarations
 * ({@link DeviceMapper#declareReleaser}: a log commit by its journal's push item, a dm-bufio write by
 * the loop device's kthread, md's {@code sb_wait} by mdmon) override that for waits whose first
 * signal may come too late to learn from. A workload entry's {@code start_ms} range draws from the
 * run's workload stream ({@link ScenarioContext#random()}), so a seed replays it. Nothing here looks
 * at which variant runs beyond building that variant's stack.
 */
public final class StackScenario implements Scenario {

    private final StackFile file;
    private final List<Variant> variants;
    /** Samples of every run so far, by variant and series. Any run's tasks append (lock-free). */
    private final ConcurrentMap<String, Queue<Long>> samples = new ConcurrentHashMap<>();
    private final Consumer<DeviceMapper> built;

    /** The scenario of a loaded stack file. */
    public StackScenario(StackFile file) {
        this(file, dm -> { });
    }

    /**
     * The scenario of a loaded stack file that hands each run's device-mapper to {@code built} once
     * the devices are built (for the analyzer, which reads its {@link DeviceMapper#waitGraph()}).
     */
    public StackScenario(StackFile file, Consumer<DeviceMapper> built) {
        this.file = file;
        this.built = built;
        this.variants = file.variants().stream()
                .map(v -> new Variant(v.name(), v.description(), v.expectHang() ? Variant.Expectation.HANGS : Variant.Expectation.COMPLETES))
                .toList();
    }

    /**
     * Loads and checks {@code path} with the built-in kinds.
     *
     * @throws dev.rescuer.storage.stack.StackFileException if the file is refused
     */
    public static StackScenario load(Path path) {
        return new StackScenario(StackFile.load(path, Kinds.builtIn()));
    }

    /**
     * The prefix of the counters every run declares ({@link dev.rescuer.sim.explore.RunResult#counters}):
     * {@code reclaimed kswapd}, {@code reclaimed direct/fs}, {@code reclaimed direct/nofs},
     * {@code reclaimed direct/noio}, the objects (pages, for the page cache and swap) the shrinkers
     * freed in passes run by that reclaimer ({@link dev.rescuer.core.mm.PageAllocator#reclaimed}).
     * Kinds declare their own: {@code pages_written <task>}, {@code swap <area> pages out}, ...
     */
    public static final String RECLAIMED = "reclaimed ";

    /** The stack file. */
    public StackFile file() {
        return file;
    }

    @Override
    public String name() {
        return file.name();
    }

    @Override
    public String description() {
        return file.description();
    }

    @Override
    public List<Variant> variants() {
        return variants;
    }

    @Override
    public long estimatedSteps() {
        return file.stack(variants.get(0).name()).estimatedSteps();
    }

    /**
     * How many schedules {@code ./rescuer demo} should run for a variant expected to complete: the
     * file's {@code explore.demo_schedules}, or {@code dflt}.
     */
    public int demoSchedules(int dflt) {
        Integer n = file.stack(variants.get(0).name()).demoSchedules();
        return n == null ? dflt : n;
    }

    /**
     * Every sample of {@code series} recorded by runs of {@code variant} so far (in no particular
     * order), for measurements: e.g. a reader's {@code "<name> latency_ns"}.
     */
    public List<Long> samples(String variant, String series) {
        Queue<Long> q = samples.get(variant + "/" + series);
        return q == null ? List.of() : List.copyOf(q);
    }

    @Override
    public void setUp(ScenarioContext ctx, Variant variant) {
        ResolvedStack stack = file.stack(variant.name());
        RescuerSystem.Builder b = RescuerSystem.builder().name(file.name()).totalPages(stack.pages())
                .pagesPerThread(stack.pagesPerThread())
                .mergeNofsNoio(stack.mergeNofsNoio())
                .backgroundReclaim(stack.kswapd())
                .hungTaskTimeout(Duration.ofSeconds(stack.hungTaskTimeoutSeconds()))
                .workqueues(WorkqueueConfig.defaults().withCpus(stack.cpus()));
        if (stack.watermarks() != null) {
            b.watermarks(stack.watermarks().get(0), stack.watermarks().get(1), stack.watermarks().get(2));
        }
        RescuerSystem sys = ctx.system(b);
        if (stack.workerCreateFails()) {
            ctx.faults().workerStartFailsAlways(); // after boot: each pool keeps the worker it booted with
        }
        ResolvedStack.WorkerCreateBudget budget = stack.workerCreateFailsAfter();
        if (budget != null) { // after boot, as above; how many more succeed is drawn from the fault stream
            ctx.faults().workerStartFailsAfter(budget.lo(), budget.hi());
        }
        stack.rescuerDomains().forEach(sys.workqueues()::presetRescuerDomain);
        if (stack.timerJitterMs() > 0) {
            ctx.faults().timerLatency(Duration.ofMillis(stack.timerJitterMs()));
        }
        DeviceMapper dm = new DeviceMapper(sys, stack.moduleParams());
        dm.onReleaser((primitive, work) -> ctx.releasers(primitive, () -> Releaser.forWork(sys.workqueues(), work)));
        dm.onTaskReleaser((primitive, task) -> ctx.releasers(primitive, () -> List.of(Releaser.task(task))));
        for (Reclaimer r : Reclaimer.values()) {
            ctx.counter(RECLAIMED + r.label(), () -> sys.pages().reclaimed(r));
        }
        stack.build(new StackBuild() {
            private PageCacheSetup pageCache; // The setup task only.
            private MdSetup md; // The setup task only.
            private SwapSetup swap; // The setup task only.
            private final Map<String, DmBufioClient> bufio = new LinkedHashMap<>(); // The setup task only.

            @Override
            public Map<String, DmBufioClient> bufioClients() {
                return bufio;
            }

            @Override
            public void devicesBuilt() {
                if (pageCache != null) {
                    pageCache.registerShrinker();
                }
            }

            @Override
            public SwapSetup swap() {
                if (swap == null) {
                    swap = new SwapSetup(sys.pages());
                }
                return swap;
            }

            @Override
            public void counter(String name, LongSupplier value) {
                ctx.counter(name, value);
            }

            @Override
            public MdSetup md() {
                if (md == null) {
                    md = new MdSetup(sys, stack.moduleParams());
                }
                return md;
            }

            @Override
            public PageCacheSetup pageCache() {
                if (pageCache == null) {
                    pageCache = new PageCacheSetup(sys, dm, !stack.pageCacheShrinkerAfterDevices());
                }
                return pageCache;
            }

            @Override
            public RescuerSystem system() {
                return sys;
            }

            @Override
            public DeviceMapper dm() {
                return dm;
            }

            @Override
            public SplittableRandom random() {
                return ctx.random();
            }

            @Override
            public void spawn(String name, Runnable body) {
                ctx.spawn(name, body);
            }

            @Override
            public void progress() {
                ctx.progress();
            }

            @Override
            public void sample(String series, long value) {
                samples.computeIfAbsent(variant.name() + "/" + series, k -> new ConcurrentLinkedQueue<>()).add(value);
            }

            @Override
            public void invariant(String name, BooleanSupplier holds) {
                ctx.invariant(name, holds);
            }
        });
        built.accept(dm);
    }
}
