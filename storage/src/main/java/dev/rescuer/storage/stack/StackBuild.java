package dev.rescuer.storage.stack;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.storage.dm.DeviceMapper;
import dev.rescuer.storage.dm.bufio.DmBufioClient;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * What a kind builds devices and starts tasks with, in a run: the system, its device-mapper (the
 * device namespace), and the run's task and invariant hooks. A runner implements it (the simulator's
 * in {@code dev.rescuer.storage.runner}).
 */
public interface StackBuild {

    /** The run's system. */
    RescuerSystem system();

    /** The run's device-mapper, whose namespace holds every device. */
    DeviceMapper dm();

    /**
     * The run's page cache, dirty limits, {@code bdi_wq} and mounted filesystems, created on first
     * use (by the first {@code filesystem} entry).
     */
    PageCacheSetup pageCache();

    /** The run's sysfs and md core ({@code md_wq}), created on first use (by the first {@code md-raid1} entry). */
    MdSetup md();

    /** The run's swap areas, to which anonymous memory is added; created on first use (by a {@code swap} entry or an {@code anon-memory} workload). */
    SwapSetup swap();

    /**
     * The run's dm-bufio clients ({@code kind: dm-bufio} entries) by entry name, for the workloads that
     * use them; the kind adds each client as it builds it. Setup task only.
     */
    Map<String, DmBufioClient> bufioClients();

    /**
     * Called once every device is built, before the workload starts: registers the page cache's
     * shrinker if the stack defers it ({@code system.page_cache_shrinker: after-devices}).
     */
    void devicesBuilt();

    /**
     * The run's random stream for the workload's own draws (a {@code start_ms} range, {@link MsRange};
     * a choice among files, {@link OneOf#draw}), apart from the scheduler's and the fault injector's, so
     * that the run's seed replays them. Draw only from the setup task or a workload task, in an order
     * the run fixes.
     */
    SplittableRandom random();

    /** Starts a workload task; the run is done when every one has returned. */
    void spawn(String name, Runnable body);

    /** Records progress (an I/O done), for livelock detection. */
    void progress();

    /**
     * Records one sample of a measured series (a reader's I/O latency in virtual nanoseconds), for
     * measurements taken over many runs; it has no effect on the run. Any context, never blocks.
     */
    void sample(String series, long value);

    /**
     * Declares a counter of the model (pages a writer wrote, pages swapped), read once when the run
     * stops into the run's result, so a measurement can read it per schedule. The supplier must not
     * block or take a lock.
     */
    void counter(String name, LongSupplier value);

    /** Declares what must hold when every task has returned. */
    void invariant(String name, BooleanSupplier holds);
}
