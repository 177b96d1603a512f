package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.storage.block.Disk;

import java.time.Duration;

/** {@code kind: disk}: a {@link Disk} with a size, a latency and a queue depth. */
public final class DiskKind extends AbstractDeviceKind<DiskKind.Config> {

    /**
     * A disk entry.
     *
     * @param kind {@code disk}
     * @param name the device name ({@code sda})
     * @param sectors size in 512-byte sectors
     * @param latencyMs completion latency in milliseconds (fractions allowed); default 1
     * @param queueDepth request tags; default 32
     */
    public record Config(String kind, String name, Long sectors, @JsonProperty("latency_ms") Double latencyMs,
                         @JsonProperty("queue_depth") Integer queueDepth) implements AbstractDeviceKind.Entry {
    }

    /**
     * The largest {@code latency_ms}: 10 s, far below the default hung-task timeout (120 s), so a
     * writer waiting on one I/O is never reported hung for the latency alone.
     */
    static final double MAX_LATENCY_MS = 10_000;

    /** The {@code kind: disk} entries. */
    public DiskKind() {
        super("disk", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.sectors(), "sectors");
        if (c.sectors() <= 0) {
            throw check.error("sectors", "must be positive, got " + c.sectors());
        }
        if (c.latencyMs() != null && (c.latencyMs() < 0 || c.latencyMs().isNaN())) {
            throw check.error("latency_ms", "must not be negative, got " + c.latencyMs());
        }
        if (c.latencyMs() != null && c.latencyMs() > MAX_LATENCY_MS) {
            throw check.error("latency_ms", "must be at most " + (long) MAX_LATENCY_MS + " ms, got " + c.latencyMs()
                    + " (a task waiting on a slower I/O would be reported as a hung task)");
        }
        if (c.queueDepth() != null && c.queueDepth() < 1) {
            throw check.error("queue_depth", "must be >= 1, got " + c.queueDepth());
        }
    }

    @Override
    public Long sectors(Config c, StackCheck check) {
        return c.sectors();
    }

    @Override
    public void build(Config c, StackBuild b) {
        double ms = c.latencyMs() == null ? 1.0 : c.latencyMs();
        b.dm().addDevice(new Disk(b.system().platform(), c.name(), c.sectors(),
                Duration.ofNanos(Math.round(ms * 1_000_000)), c.queueDepth() == null ? 32 : c.queueDepth()));
    }
}
