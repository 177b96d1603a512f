package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.RescuerDomain;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.WqFlag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rescuer-domain pseudo-class {@code (wq_rescuer)<domain>}: a shared rescuer serialises the items
 * of every queue of its domain, so an item of one member that waits for an item of another is a
 * cycle, seen from runs in which workers ran everything (real threads, no memory pressure).
 */
class RescuerDomainValidatorTest extends RealThreadsFixture {

    private RescuerSystem sys;

    @BeforeEach
    void buildSystem() { // after the fixture's platform and validator
        sys = RescuerSystem.builder().platform(platform).pagesPerThread(0).hungTaskTimeout(Duration.ZERO).build();
    }

    @AfterEach
    void closeSystem() { // before the fixture closes the platform
        sys.close();
    }

    private static List<String> classes(PotentialCycle c) {
        return c.classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList());
    }

    /** An item of {@code upper} queues an item on {@code lower} and flushes {@code lower} (dm-snapshot's {@code chunk_io}). */
    private void flushLowerFromAnItemOfUpper(WorkQueue upper, WorkQueue lower) {
        run("writer", () -> {
            upper.queue(new Work("copy_callback", () -> {
                lower.queue(new Work("do_metadata", () -> { }));
                lower.flush();
            }));
            upper.flush();
        });
    }

    /**
     * S13's {@code chain-shared-no-workers} shape: kcopyd's item flushes ksnaphd, and both queues are
     * in one domain. With no worker to be had, the shared rescuer runs kcopyd's item, and ksnaphd's item
     * can only run on that rescuer. Before the domain's class existed this reported nothing (each
     * queue's own class is held recursive by its items, and neither queue waits on itself).
     */
    @Test
    void anItemOfOneMemberFlushingAnotherMemberIsACycleThroughTheDomain() {
        RescuerDomain shared = sys.workqueues().createRescuerDomain("shared");
        WorkQueue kcopyd = sys.workqueues().create("kcopyd_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue ksnaphd = sys.workqueues().create("ksnaphd_test", 0, shared, WqFlag.MEM_RECLAIM);
        flushLowerFromAnItemOfUpper(kcopyd, ksnaphd);
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)ksnaphd_test", "(wq_rescuer)shared"), classes(cycles.get(0)));
    }

    /** The same through a {@code flush_work} of the lower item rather than a flush of its queue. */
    @Test
    void anItemOfOneMemberFlushingAnItemOfAnotherMemberIsACycleThroughTheDomain() {
        RescuerDomain shared = sys.workqueues().createRescuerDomain("shared");
        WorkQueue upper = sys.workqueues().create("upper_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue lower = sys.workqueues().create("lower_test", 0, shared, WqFlag.MEM_RECLAIM);
        run("writer", () -> {
            upper.queue(new Work("upper_item", () -> {
                Work item = new Work("lower_item", () -> { });
                lower.queue(item);
                item.flush();
            }));
            upper.flush();
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)lower_test", "(wq_rescuer)shared"), classes(cycles.get(0)));
    }

    /**
     * A wait for an event whose owner names an item of another member as its completer (a bio whose
     * end-io was deferred to it) is a flush of that item ({@code check_flush_dependency}'s view), so it
     * waits on the domain too.
     */
    @Test
    void anItemOfOneMemberWaitingForAnEventDeferredToAnItemOfAnotherIsACycleThroughTheDomain() {
        RescuerDomain shared = sys.workqueues().createRescuerDomain("shared");
        WorkQueue writeback = sys.workqueues().create("writeback_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue endioQueue = sys.workqueues().create("endio_test", 0, shared, WqFlag.MEM_RECLAIM);
        Completion done = new Completion(platform, "bio#0", "bio-end-io");
        Work endio = new Work("endio", done::complete);
        done.setOwner(new HandedOnEvent() {
            @Override public Object completer() { return endio; }
            @Override public String describe() { return "end-io deferred to " + endio; }
        });
        run("queuer", () -> {
            writeback.queue(new Work("writeback", () -> {
                endioQueue.queue(endio);
                done.waitFor();
            }));
            writeback.flush();
        });
        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("(wq_completion)endio_test", "(wq_rescuer)shared", "bio-end-io"), classes(cycles.get(0)));
    }

    /** The exactness guard: with a rescuer of its own each, the flush gives no edge into any domain class and no cycle. */
    @Test
    void twoQueuesWithTheirOwnRescuersGiveNoEdgeAndNoCycle() {
        WorkQueue kcopyd = sys.workqueues().create("kcopyd_test", 0, WqFlag.MEM_RECLAIM);
        WorkQueue ksnaphd = sys.workqueues().create("ksnaphd_test", 0, WqFlag.MEM_RECLAIM);
        flushLowerFromAnItemOfUpper(kcopyd, ksnaphd);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
        assertTrue(validator.classes().stream().noneMatch(c -> c.name().startsWith("(wq_rescuer)")),
                () -> validator.classes().toString());
    }

    /** The analyzer's plan: the two queues of one chain in different domains. */
    @Test
    void queuesOfOneChainInDifferentDomainsAreNoCycle() {
        RescuerDomain top = sys.workqueues().createRescuerDomain("rescuer-2");
        RescuerDomain bottom = sys.workqueues().createRescuerDomain("rescuer-1");
        WorkQueue kcopyd = sys.workqueues().create("kcopyd_test", 0, top, WqFlag.MEM_RECLAIM);
        WorkQueue ksnaphd = sys.workqueues().create("ksnaphd_test", 0, bottom, WqFlag.MEM_RECLAIM);
        flushLowerFromAnItemOfUpper(kcopyd, ksnaphd);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /** Independent queues may share: items of two members that wait on nothing of each other give no cycle. */
    @Test
    void independentQueuesSharingADomainAreNoCycle() {
        RescuerDomain shared = sys.workqueues().createRescuerDomain("shared");
        WorkQueue a = sys.workqueues().create("a_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue b = sys.workqueues().create("b_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue below = sys.workqueues().create("below_test", 0, WqFlag.MEM_RECLAIM);
        flushLowerFromAnItemOfUpper(a, below);
        flushLowerFromAnItemOfUpper(b, below);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    /**
     * A class-level signal is no wait for the domain: an item of one member waits on a completion that
     * an item of the other signals, with no completer named. The signaller's hold of the domain is
     * recursive, as its queue's is, so the validator stays with what it knows (docs/VALIDATOR.md's
     * "Classes, not instances").
     */
    @Test
    void aSignalFromAnItemOfAnotherMemberWithoutANamedCompleterIsNoCycle() {
        RescuerDomain shared = sys.workqueues().createRescuerDomain("shared");
        WorkQueue a = sys.workqueues().create("a_test", 0, shared, WqFlag.MEM_RECLAIM);
        WorkQueue b = sys.workqueues().create("b_test", 0, shared, WqFlag.MEM_RECLAIM);
        Completion done = new Completion(platform, "done");
        run("queuer", () -> {
            b.queue(new Work("signaller", done::complete));
            b.flush();
            a.queue(new Work("waiter", done::waitFor));
            a.flush();
        });
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }
}
