package dev.rescuer.sim.explore;

/** A small test scenario with a hang in some schedules only. */
final class Abba {

    private Abba() {
    }

    /**
     * Two tasks take two mutexes in opposite orders (ABBA): a hang in some schedules only, so that
     * the first finding can lie past schedule 0 and running every schedule finds some, not all.
     */
    static final Scenario SCENARIO = new InlineScenario("abba", 40, (ctx, v) -> {
        ctx.system(dev.rescuer.core.RescuerSystem.builder().name("abba"));
        ctx.faults().timerLatency(java.time.Duration.ofMillis(2));
        dev.rescuer.core.sync.Mutex a = new dev.rescuer.core.sync.Mutex(ctx.platform(), "A");
        dev.rescuer.core.sync.Mutex b = new dev.rescuer.core.sync.Mutex(ctx.platform(), "B");
        // "A then B" takes A and naps 1 ms before taking B; "B then A" naps 1 ms before taking B and
        // then A. Each nap ends up to 2 ms late (timer jitter): if A-then-B wakes first it takes B and
        // finishes; if B-then-A wakes first, each waits for the other's lock.
        java.util.function.Consumer<String> nap = name -> dev.rescuer.core.sync.WaitQueue.idle(ctx.platform(), name + "/nap", "nap")
                .waitEventTimeout(() -> false, java.time.Duration.ofMillis(1));
        ctx.spawn("A then B", () -> {
            a.lock();
            try {
                nap.accept("A then B");
                b.lock();
                b.unlock();
            } finally {
                a.unlock();
            }
        });
        ctx.spawn("B then A", () -> {
            nap.accept("B then A");
            b.lock();
            try {
                a.lock();
                a.unlock();
            } finally {
                b.unlock();
            }
        });
    });
}
