package dev.rescuer.storage.pagecache;

import dev.rescuer.core.platform.Platform;
import dev.rescuer.storage.block.Bio;
import dev.rescuer.storage.block.BioOp;
import dev.rescuer.storage.block.BlkStatus;
import dev.rescuer.storage.block.BlockDevice;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * A test-only disk: ends every bio inline in {@code submitBio} (latency zero) or from a platform
 * timer after a latency, in the timer's atomic context as a completion interrupt would. Records
 * every bio it was given, and fails those {@link #failWhen} selects with {@code BLK_STS_IOERR}.
 */
public final class TestDisk implements BlockDevice {

    /** What the disk saw of one bio. */
    public record Seen(BioOp op, int flags, long sector, String origin, int sectors) {
        /** Whether {@code flag} was set. */
        public boolean has(int flag) {
            return (flags & flag) != 0;
        }
    }

    private final String name;
    private final Platform platform;
    private final long capacitySectors;
    private final Duration latency;
    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    private volatile Predicate<Bio> failWhen = b -> false;

    /** A disk of {@code capacitySectors} whose bios end after {@code latency} (zero: inline). */
    public TestDisk(String name, Platform platform, long capacitySectors, Duration latency) {
        this.name = name;
        this.platform = platform;
        this.capacitySectors = capacitySectors;
        this.latency = latency;
    }

    /**
     * A file whose page {@code i} is at block {@code firstBlock + i} of this disk, for {@code pages}
     * pages; {@code writepage} says whether reclaim may write its pages itself.
     */
    public AddressSpaceOperations extent(long firstBlock, long pages, boolean writepage) {
        BlockDevice disk = this;
        return new AddressSpaceOperations() {
            @Override
            public BlockDevice device() {
                return disk;
            }

            @Override
            public long sectorOf(AddressSpace mapping, long index) {
                if (index >= pages) {
                    throw new IllegalArgumentException("page " + index + " of " + mapping.name() + " has no block");
                }
                return (firstBlock + index) * 8;
            }

            @Override
            public boolean writepageFromReclaim() {
                return writepage;
            }
        };
    }

    /** Makes bios matching {@code p} end with an I/O error. */
    public void failWhen(Predicate<Bio> p) {
        this.failWhen = p;
    }

    /** Every bio submitted so far, in order. */
    public List<Seen> seen() {
        return new ArrayList<>(seen);
    }

    /** How many bios with {@code op} were submitted. */
    public long count(BioOp op) {
        return seen.stream().filter(s -> s.op() == op).count();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long capacitySectors() {
        return capacitySectors;
    }

    @Override
    public Platform platform() {
        return platform;
    }

    @Override
    public void submitBio(Bio bio) {
        seen.add(new Seen(bio.op(), bio.flags(), bio.sector(), bio.origin(), bio.sectors()));
        BlkStatus status = failWhen.test(bio) ? BlkStatus.IOERR : BlkStatus.OK;
        if (latency.isZero()) {
            bio.endio(status);
        } else {
            platform.newTimer(name + " irq", () -> bio.endio(status)).arm(latency);
        }
    }
}
