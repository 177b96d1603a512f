package dev.rescuer.storage.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.sync.WaitQueue;
import dev.rescuer.storage.swap.AnonMemory;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code kind: anon-memory}: a process that faults in {@code pages} anonymous pages and keeps touching
 * them, {@code passes} times, {@code interval_ms} apart; then it exits and gives everything back.
 * Faults are {@code GFP_HIGHUSER_MOVABLE} ({@link #FAULT_GFP}), so reclaim may swap the pages out to
 * the run's {@code swap} areas; touching a swapped-out page faults it back in ({@code do_swap_page}:
 * a read from swap and a new page, which may itself reclaim). Touching a resident page changes
 * nothing (the model's LRU is FIFO). Without a swap area the pages cannot be reclaimed at all.
 * Progress: one unit per fault and per page touched; the invariant is that every unit was done.
 */
public final class AnonMemoryKind extends AbstractWorkloadKind<AnonMemoryKind.Config> {

    /**
     * The context of an anonymous page fault: {@code GFP_HIGHUSER_MOVABLE} is {@code GFP_USER} (reclaim,
     * I/O and filesystems allowed) plus placement hints this model has no use for. {@code __GFP_NOFAIL}
     * stands for the fault's retry: a fault that gets no page returns {@code VM_FAULT_OOM}, and
     * {@code pagefault_out_of_memory} lets the task fault again (this model has no OOM killer).
     */
    public static final Gfp FAULT_GFP = Gfp.KERNEL.with(Gfp.Modifier.NOFAIL);

    /**
     * An anonymous-memory entry.
     *
     * @param kind {@code anon-memory}
     * @param name the process's name
     * @param pages pages it faults in, at least 1
     * @param passes how often it touches every page after faulting them in; default 1
     * @param intervalMs how long it sleeps before each pass; default 0
     * @param startMs when it starts (a number, or a range {@code lo..hi} drawn per run: {@link MsRange}); default 0
     */
    public record Config(String kind, String name, Integer pages, Integer passes,
                         @JsonProperty("interval_ms") Double intervalMs, @JsonProperty("start_ms") MsRange startMs) {
    }

    /** The {@code kind: anon-memory} entries. */
    public AnonMemoryKind() {
        super("anon-memory", Config.class);
    }

    @Override
    public void check(Config c, StackCheck check) {
        check.require(c.name(), "name");
        check.require(c.pages(), "pages");
        if (c.pages() < 1) {
            throw check.error("pages", "must be >= 1, got " + c.pages());
        }
        if (c.passes() != null && c.passes() < 0) {
            throw check.error("passes", "must be >= 0, got " + c.passes());
        }
        if (c.intervalMs() != null && (c.intervalMs() < 0 || c.intervalMs().isNaN())) {
            throw check.error("interval_ms", "must not be negative, got " + c.intervalMs());
        }
        if (c.intervalMs() != null && c.intervalMs() > MsRange.MAX_MS) {
            throw check.error("interval_ms", "must be at most " + MsRange.MAX_MS + " ms, got " + c.intervalMs());
        }
        if (c.pages() >= check.memoryPages()) {
            throw check.error("pages", c.pages() + " pages is not less than all of memory (" + check.memoryPages() + " pages)");
        }
        StartDelay.check(c.startMs(), check);
    }

    @Override
    public void start(Config c, StackBuild b) {
        long startNs = StartDelay.draw(b, c.startMs());
        int pages = c.pages();
        int passes = c.passes() == null ? 1 : c.passes();
        Duration interval = Duration.ofNanos(Math.round((c.intervalMs() == null ? 0 : c.intervalMs()) * 1_000_000));
        if (pages >= b.system().pages().totalPages()) {
            throw new IllegalArgumentException("anon-memory " + c.name() + ": pages: " + pages
                    + " pages is not less than all of memory (" + b.system().pages().totalPages() + " pages)");
        }
        AnonMemory mem = new AnonMemory(b.system().pages(), c.name());
        b.swap().add(mem);
        AtomicLong done = new AtomicLong();
        AtomicLong swappedIn = new AtomicLong();
        long total = (long) pages * (passes + 1);
        b.counter("swapped_in " + c.name(), swappedIn::get);
        b.spawn(c.name(), () -> {
            StartDelay.sleep(b.system().platform(), c.name(), startNs);
            for (int i = 0; i < pages; i++) {
                mem.fault(FAULT_GFP);
                done.incrementAndGet();
                b.progress();
            }
            for (int pass = 0; pass < passes; pass++) {
                if (!interval.isZero()) {
                    WaitQueue.idle(b.system().platform(), c.name() + "/interval", "anon_interval")
                            .waitEventTimeout(() -> false, interval);
                }
                for (int i = 0; i < pages; i++) {
                    if (mem.swapIn(FAULT_GFP)) {
                        swappedIn.incrementAndGet();
                    }
                    done.incrementAndGet();
                    b.progress();
                }
            }
            mem.release(); // exit_mmap; not on a failure or a torn-down run, which end the run anyway
        });
        b.invariant(c.name() + ": faulted in and touched every page", () -> done.get() == total);
    }
}
