package dev.rescuer.storage.md;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.wq.WorkqueueConfig;
import dev.rescuer.sim.explore.Scenario;
import dev.rescuer.sim.explore.ScenarioContext;
import dev.rescuer.sim.explore.StrategyKind;
import dev.rescuer.sim.explore.Variant;
import dev.rescuer.storage.kernfs.Kernfs;
import dev.rescuer.storage.pagecache.Explorations;
import dev.rescuer.storage.pagecache.TestDisk;

import java.time.Duration;
import java.util.List;

/** Test helper: a one-variant simulator scenario with a system, md and two test disks, explored to completion. */
final class MdSim {

    /** What a test gets to build on. */
    record Env(ScenarioContext ctx, RescuerSystem sys, Kernfs kernfs, Md md, TestDisk a, TestDisk b) {
    }

    interface Body {
        void setUp(Env env);
    }

    private MdSim() {
    }

    /** Runs {@code schedules} PCT and random schedules of {@code body}; every one must complete with its invariants. */
    static void assertCompletes(String name, Kernfs.NotifyQueue queue, int schedules, Body body) {
        Scenario sc = new Scenario() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return name;
            }

            @Override
            public List<Variant> variants() {
                return List.of(new Variant("default", name, Variant.Expectation.COMPLETES));
            }

            @Override
            public long estimatedSteps() {
                return 200;
            }

            @Override
            public void setUp(ScenarioContext ctx, Variant variant) {
                RescuerSystem sys = ctx.system(RescuerSystem.builder().name("ram").totalPages(64).watermarks(4, 6, 8)
                        .pagesPerThread(1).backgroundReclaim(false).workqueues(WorkqueueConfig.defaults().withCpus(1)));
                Kernfs kernfs = new Kernfs(sys.workqueues(), queue);
                Md md = new Md(sys.workqueues(), sys.pages(), kernfs);
                TestDisk a = new TestDisk("sda", ctx.platform(), 1 << 10, Duration.ofMillis(1));
                TestDisk b = new TestDisk("sdb", ctx.platform(), 1 << 10, Duration.ofMillis(1));
                body.setUp(new Env(ctx, sys, kernfs, md, a, b));
            }
        };
        for (StrategyKind k : List.of(StrategyKind.PCT, StrategyKind.RANDOM)) {
            Explorations.assertCompletes(sc, "default", k, schedules);
        }
    }
}
