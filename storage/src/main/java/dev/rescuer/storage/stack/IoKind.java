package dev.rescuer.storage.stack;

import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;
import dev.rescuer.storage.block.BlockLayer;
import dev.rescuer.storage.deps.WaitGraph;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code kind: writer} and {@code kind: reader}: a task doing {@code count} I/Os of {@code sectors}
 * sectors on a device, from {@code start_sector} on, {@code stride} apart, keeping up to
 * {@code in_flight} of them submitted at once (a DRBD receiver submitting the writes it receives,
 * say; 1 is synchronous I/O), and waiting for the last ones before it returns. A writer's data is
 * {@code name}-specific, so a test can tell whose write a sector holds. An I/O past the end of the
 * device ends with an I/O error without reaching it, as the kernel's {@code bio_check_eod} makes
 * {@code submit_bio_noacct} end it with {@code BLK_STS_IOERR}. The invariant: every I/O
 * ended without error. Each I/O's latency, from submission to end-io in platform time, is recorded
 * as a sample of the series {@code "<name> latency_ns"} ({@link StackBuild#sample}).
 */
public final class IoKind implements WorkloadKind<IoKind.Config> {

    /**
     * An I/O task.
     *
     * @param kind {@code writer} or {@code reader}
     * @param name the task's name
     * @param device the device
     * @param startSector the first I/O's sector; default 0
     * @param sectors sectors per I/O; default 8
     * @param count how many I/Os; default 1
     * @param stride sectors from one I/O to the next; default {@code sectors}
     * @param inFlight I/Os submitted and not yet ended at most; default 1
     * @param startMs when the task starts, in milliseconds of the run's clock (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     * @param flags request flags of every I/O: {@code preflush}, {@code fua}, {@code sync} (a database's
     *     {@code fsync} of a raw device: {@code REQ_PREFLUSH | REQ_FUA}); default none
     */
    public record Config(String kind, String name, String device,
                         @com.fasterxml.jackson.annotation.JsonProperty("start_sector") Long startSector,
                         Integer sectors, Integer count, Long stride,
                         @com.fasterxml.jackson.annotation.JsonProperty("in_flight") Integer inFlight,
                         @com.fasterxml.jackson.annotation.JsonProperty("start_ms") MsRange startMs,
                         java.util.List<String> flags) {
    }

    private final BioOp op;

    /** The writer kind ({@code op} WRITE) or the reader kind (READ). */
    public IoKind(BioOp op) {
        this.op = op;
    }

    @Override
    public String kind() {
        return op == BioOp.WRITE ? "writer" : "reader";
    }

    @Override
    public Class<Config> configType() {
        return Config.class;
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        check.requireDevice(c.device(), "device", null);
        if (c.sectors() != null && c.sectors() < 1) {
            throw check.error("sectors", "must be >= 1, got " + c.sectors());
        }
        if (c.count() != null && c.count() < 0) {
            throw check.error("count", "must not be negative, got " + c.count());
        }
        StartDelay.check(c.startMs(), check);
        if (c.inFlight() != null && c.inFlight() < 1) {
            throw check.error("in_flight", "must be >= 1, got " + c.inFlight());
        }
        flags(c, check);
        if (c.startSector() != null && c.startSector() < 0) {
            throw check.error("start_sector", "must not be negative, got " + c.startSector());
        }
        if (c.stride() != null && c.stride() < 0) {
            throw check.error("stride", "must not be negative, got " + c.stride());
        }
    }

    /** The sector of I/O {@code i}, or {@code Long.MAX_VALUE} (past every device) if it overflows. */
    private static long sectorOf(long start, int i, long stride) {
        try {
            return Math.addExact(start, Math.multiplyExact(i, stride));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** The bios' request flags; {@code check} locates a refusal (null once the entry was checked). */
    private static int flags(Config c, StackCheck check) {
        int opf = 0;
        java.util.List<String> given = c.flags() == null ? java.util.List.of() : c.flags();
        for (int i = 0; i < given.size(); i++) {
            String f = String.valueOf(given.get(i));
            switch (f) {
                case "preflush" -> opf |= Bio.REQ_PREFLUSH;
                case "fua" -> opf |= Bio.REQ_FUA;
                case "sync" -> opf |= Bio.REQ_SYNC;
                default -> {
                    String why = "'" + f + "' is not one of preflush, fua, sync";
                    throw check == null ? new IllegalStateException(why) : check.error("flags[" + i + "]", why);
                }
            }
        }
        return opf;
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        int opf = flags(c, null);
        int sectors = c.sectors() == null ? 8 : c.sectors();
        int count = c.count() == null ? 1 : c.count();
        long start = c.startSector() == null ? 0 : c.startSector();
        long stride = c.stride() == null ? sectors : c.stride();
        int inFlight = c.inFlight() == null ? 1 : c.inFlight();
        AtomicInteger failed = new AtomicInteger();
        AtomicLong sectorsWritten = new AtomicLong();
        WriterMeter meter = op == BioOp.WRITE
                ? WriterMeter.declare(b, c.name(), () -> sectorsWritten.get() / (Bio.PAGE_SIZE / Bio.SECTOR_SIZE)) : null;
        AtomicInteger outstanding = new AtomicInteger();
        long tag = (long) c.name().hashCode() << 32;
        WaitQueue ioWait = new WaitQueue(b.system().platform(), c.name() + "/io_wait", "io_wait");
        var graph = b.dm().waitGraph();
        graph.node(c.name(), WaitGraph.NodeKind.TASK);
        graph.node(c.device(), WaitGraph.NodeKind.DEVICE);
        graph.waitsOn(c.name(), c.device(), kind() + ": waits for its bios (io_schedule)");
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            Runnable io = () -> {
                BlockDevice dev = b.dm().lookup(c.device());
                if (dev == null) {
                    throw new IllegalStateException(c.name() + ": device " + c.device() + " does not exist (yet)");
                }
                for (int i = 0; i < count; i++) {
                    ioWait.waitEvent(() -> outstanding.get() < inFlight);
                    long sector = sectorOf(start, i, stride);
                    if (sectors > dev.capacitySectors() || sector > dev.capacitySectors() - sectors) {
                        // bio_check_eod: "attempt to access beyond end of device"; submit_bio_noacct ends
                        // the bio with BLK_STS_IOERR, so the writer sees EIO and goes on
                        failed.incrementAndGet();
                        b.progress();
                        continue;
                    }
                    long[] submitted = new long[1];
                    Bio bio = new Bio(op, opf, dev, sector, sectors * Bio.SECTOR_SIZE, null, done -> {
                        b.sample(c.name() + " latency_ns", b.system().platform().nanoTime() - submitted[0]);
                        if (done.status() != BlkStatus.OK) {
                            failed.incrementAndGet();
                        } else if (op == BioOp.WRITE) {
                            sectorsWritten.addAndGet(sectors);
                        }
                        outstanding.decrementAndGet();
                        ioWait.wakeUp(); // end-io context: may be atomic; waking never sleeps
                    }, kind() + " " + c.name());
                    long[] data = new long[sectors];
                    if (op == BioOp.WRITE) {
                        for (int s = 0; s < sectors; s++) {
                            data[s] = tag | (sector + s);
                        }
                    }
                    bio.setData(data, 0);
                    outstanding.incrementAndGet();
                    submitted[0] = b.system().platform().nanoTime();
                    BlockLayer.submitBioNoacct(bio);
                    b.progress();
                }
                ioWait.waitEvent(() -> outstanding.get() == 0);
            };
            if (meter == null) {
                io.run();
            } else {
                meter.time(io);
            }
        });
        b.invariant(c.name() + ": every I/O succeeded", () -> failed.get() == 0);
    }
}
