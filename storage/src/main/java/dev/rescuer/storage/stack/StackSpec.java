package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * A stack file's top level, as written (field names are the YAML keys). Devices and workload entries
 * stay trees here: each is bound by the kind its {@code kind} key names ({@link Kinds}).
 *
 * @param name the scenario's name (default: the file's name without {@code .yaml})
 * @param description one paragraph for the reader
 * @param system CPUs, memory and the hung-task timeout
 * @param modules module parameters: module → parameter → value ({@code dm_snapshot: {snapshot_cow_threshold: 1}})
 * @param devices disks and mapped devices, in creation order
 * @param workload the tasks that run
 * @param explore settings for the explorer
 * @param variants named overrides with what each is expected to do
 */
public record StackSpec(String name, String description, SystemSpec system, Map<String, Map<String, JsonNode>> modules,
                        List<ObjectNode> devices, List<ObjectNode> workload, ExploreSpec explore,
                        List<VariantSpec> variants) {

    /**
     * The machine.
     *
     * @param cpus CPUs (per-CPU worker pools); default 2
     * @param memory the page budget
     * @param hungTaskTimeoutS the hung-task detector's timeout in seconds; default 120
     * @param mergeNofsNoio Patocka's proposal: every NOFS context also clears {@code __GFP_IO}; default false
     * @param rescuerDomains queue name to the rescuer domain its rescuer is shared in (the analyzer's
     *     plan; see {@code Workqueues.presetRescuerDomain}); a queue not named has its own rescuer
     * @param kswapd whether the machine has background reclaim ({@code kswapd}, woken by allocations
     *     below the low watermark); default true
     * @param pageCacheShrinker when the page cache's shrinker is registered, which sets where reclaim
     *     reaches it ({@code shrink_slab} walks shrinkers in registration order): {@code first-mount}
     *     (the default: when the first filesystem is mounted) or {@code after-devices} (once every
     *     device is built, after the shrinkers the devices registered)
     * @param faults injected faults (the kernel's fault-injection knobs); default none
     */
    public record SystemSpec(Integer cpus, MemorySpec memory, @JsonProperty("hung_task_timeout_s") Integer hungTaskTimeoutS,
                             @JsonProperty("merge_nofs_noio") Boolean mergeNofsNoio,
                             @JsonProperty("rescuer_domains") Map<String, String> rescuerDomains,
                             Boolean kswapd,
                             @JsonProperty("page_cache_shrinker") String pageCacheShrinker,
                             FaultsSpec faults) {
    }

    /**
     * Injected faults, as an administrator sets them with the kernel's fault-injection framework
     * ({@code failslab} with {@code task-filter}).
     *
     * @param workerCreate {@code ok} (default), {@code fail}: from boot on, every worker a pool's
     *     manager creates fails ({@code failslab} with {@code make-it-fail} on the kworkers); each pool
     *     keeps the one worker it booted with, which must create a spare before it runs an item, so
     *     only rescuers run items; or {@code fail after LO..HI}: after boot the first N worker
     *     creations succeed and every later one fails, N drawn per run from {@code LO..HI}
     *     ({@code failslab}'s {@code space} budget, spent at a moment nobody chose)
     */
    public record FaultsSpec(@JsonProperty("worker_create") String workerCreate) {
    }

    /**
     * The page budget.
     *
     * @param pages total pages; default 4096
     * @param watermarks {@code [min, low, high]}; default the allocator's
     * @param pagesPerThread what starting a thread costs; default 4
     */
    public record MemorySpec(Long pages, List<Long> watermarks, @JsonProperty("pages_per_thread") Integer pagesPerThread) {
    }

    /**
     * Explorer settings.
     *
     * @param estimatedSteps PCT's {@code k}; default 500
     * @param timerJitterMs every timer fires up to this late, drawn from the run's fault stream; default 0
     * @param demoSchedules schedules {@code ./rescuer demo} runs for a variant expected to complete
     *     (default: the demo's own budget), for a stack whose runs are long
     */
    public record ExploreSpec(@JsonProperty("estimated_steps") Long estimatedSteps,
                              @JsonProperty("timer_jitter_ms") Integer timerJitterMs,
                              @JsonProperty("demo_schedules") Integer demoSchedules) {
    }

    /**
     * A variant.
     *
     * @param name its name
     * @param description one line
     * @param expected {@code hang} or {@code complete}
     * @param set dotted paths into the file and the values that replace what is there
     *     ({@code modules.dm_snapshot.cow_throttle: semaphore}; a list element is named by its
     *     {@code name} key or its index)
     */
    public record VariantSpec(String name, String description, String expected, Map<String, JsonNode> set) {
    }
}
