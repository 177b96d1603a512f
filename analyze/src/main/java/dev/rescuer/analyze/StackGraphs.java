package dev.rescuer.analyze;

import dev.rescuer.sim.CarrierPool;
import dev.rescuer.sim.explore.ExploreOptions;
import dev.rescuer.sim.explore.Explorer;
import dev.rescuer.sim.explore.RunResult;
import dev.rescuer.sim.explore.RunSeed;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.runner.StackScenario;
import dev.rescuer.storage.stack.Kinds;
import dev.rescuer.storage.stack.StackFile;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stack file's declared dependency graph: the devices, queues and waits its targets declare
 * ({@link DeviceMapper#waitGraph()}) as they are constructed. The stack is built by one run on the
 * simulator (seed 1, random walk), so that devices the workload creates ({@code dmsetup create}
 * while writers run) are there too; nothing is inferred from what the run did, only from what the
 * targets declared. A device the workload would create after a hang in that run is missing; the
 * result names the run's outcome so a reader can tell.
 */
public final class StackGraphs {

    private StackGraphs() {
    }

    /** The graph and the outcome of the run that built it. */
    public record Built(WaitGraph graph, String outcome) {
    }

    /** Builds variant {@code variant} (the first if {@code null}) of {@code file} and returns its declared graph. */
    public static Built declared(StackFile file, String variant) {
        AtomicReference<DeviceMapper> dm = new AtomicReference<>();
        StackScenario s = new StackScenario(file, dm::set);
        Variant v = variant == null ? s.variants().get(0) : s.variant(variant); // names the variants if it has none such
        Explorer explorer = new Explorer(List.of(s));
        RunResult r;
        try (CarrierPool pool = new CarrierPool("analyze")) {
            r = explorer.run(s, v, RunSeed.forSchedule(s, v, StrategyKind.RANDOM, ExploreOptions.DEFAULT_DEPTH, 1, 0), 0, pool,
                    ExploreOptions.DEFAULT_LIVELOCK_BOUND);
        }
        if (dm.get() == null) {
            throw new IllegalStateException("stack " + file.name() + " variant " + v.name() + " did not build: " + r.reason());
        }
        return new Built(dm.get().waitGraph(), r.outcome().toString().toLowerCase(java.util.Locale.ROOT));
    }

    /** {@link #declared(StackFile, String)} with the built-in kinds, loading {@code path}. */
    public static Built declared(java.nio.file.Path path, String variant) {
        return declared(StackFile.load(path, Kinds.builtIn()), variant);
    }
}
