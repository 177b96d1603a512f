package dev.rescuer.sim;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.sim.strategy.RandomWalk;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SimSmokeTest {

    @Test
    void mutexAndWorkqueue() {
        try (CarrierPool pool = new CarrierPool("smoke")) {
            for (int seed = 0; seed < 20; seed++) {
                SimPlatform sim = new SimPlatform(seed, new RandomWalk(seed), pool, 1_000_000);
                AtomicInteger count = new AtomicInteger();
                SimPlatform.Stop stop = sim.run("init", () -> {
                    RescuerSystem sys = RescuerSystem.builder().platform(sim).cpus(2).totalPages(1024).build();
                    Mutex m = new Mutex(sim, "m");
                    WorkQueue wq = sys.workqueues().create("q", 0);
                    Task a = sim.startThread("a", () -> { for (int i = 0; i < 10; i++) { m.lock(); count.incrementAndGet(); m.unlock(); } });
                    Task b = sim.startThread("b", () -> { for (int i = 0; i < 10; i++) { m.lock(); count.incrementAndGet(); m.unlock(); } });
                    Work w = new Work("w", count::incrementAndGet);
                    wq.queue(w);
                    wq.flush();
                    sim.join(a);
                    sim.join(b);
                    sim.stop(SimPlatform.StopKind.DONE, "done");
                });
                assertEquals(SimPlatform.StopKind.DONE, stop.kind(), stop.reason());
                assertEquals(21, count.get());
            }
        }
    }
}
