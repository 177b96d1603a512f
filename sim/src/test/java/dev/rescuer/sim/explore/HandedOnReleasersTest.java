package dev.rescuer.sim.explore;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.sim.CarrierPool;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report's edge source for handed-on events: a completion owned by a {@link HandedOnEvent} is
 * released by whatever its chain of completers ends in, every hop named; a task at the end makes an
 * edge (here two of them close a cycle), anything else a note that ends the chain.
 */
class HandedOnReleasersTest {

    /** An event whose completer is whatever {@code next} holds when the report asks. */
    private record Hop(String name, AtomicReference<Object> next) implements HandedOnEvent {
        @Override
        public Object completer() {
            return next.get();
        }

        @Override
        public String describe() {
            Object c = next.get();
            return name + (c instanceof Task ? ", completed by" : c instanceof HandedOnEvent ? ", waits for" : ", " + c);
        }
    }

    @Test
    void twoTasksEachWaitingForAnEventTheOtherCompletesMakeACycleThroughEveryHop() {
        InlineScenario s = new InlineScenario("handed-on-cycle", 100, (ctx, v) -> {
            ctx.system(RescuerSystem.builder().name("h").totalPages(64).pagesPerThread(0).withoutWorkqueues());
            AtomicReference<Object> toA = new AtomicReference<>();
            AtomicReference<Object> toB = new AtomicReference<>();
            Completion aWaits = new Completion(ctx.platform(), "a waits");
            aWaits.setOwner(new Hop("request x", toB));
            Completion bWaits = new Completion(ctx.platform(), "b waits");
            bWaits.setOwner(new Hop("request y", new AtomicReference<>(new Hop("its clone", toA))));
            toA.set(ctx.spawn("a", aWaits::waitFor));
            toB.set(ctx.spawn("b", bWaits::waitFor));
        });
        try (CarrierPool pool = new CarrierPool("handed-on-test")) {
            RunResult r = s.run(StrategyKind.PCT, 0, pool, 10_000);
            assertEquals(Outcome.HANG, r.outcome(), r.reason());
            HangReport report = r.report();
            assertEquals(1, report.cycles().size(), report.toText());
            List<String> cycle = report.cycles().get(0);
            assertTrue(cycle.stream().anyMatch(e -> e.startsWith("a:") && e.contains("released by request x, completed by b:")), report.toText());
            assertTrue(cycle.stream().anyMatch(e -> e.startsWith("b:")
                    && e.contains("released by request y, waits for -> its clone, completed by a:")), report.toText());
        }
    }

    @Test
    void anEventAtANonTaskEndsTheChainWithWhereItStands() {
        InlineScenario s = new InlineScenario("handed-on-leaf", 100, (ctx, v) -> {
            ctx.system(RescuerSystem.builder().name("h").totalPages(64).pagesPerThread(0).withoutWorkqueues());
            Completion waits = new Completion(ctx.platform(), "waits");
            waits.setOwner(new Hop("request z", new AtomicReference<>("in flight on a device")));
            ctx.spawn("c", waits::waitFor);
        });
        try (CarrierPool pool = new CarrierPool("handed-on-test")) {
            RunResult r = s.run(StrategyKind.PCT, 0, pool, 10_000);
            assertEquals(Outcome.HANG, r.outcome(), r.reason());
            HangReport report = r.report();
            assertTrue(report.cycles().isEmpty(), report.toText());
            assertEquals(1, report.chains().size(), report.toText());
            assertEquals(1, report.chains().get(0).size(), report.toText());
            String edge = report.chains().get(0).get(0);
            assertTrue(edge.startsWith("c:") && edge.endsWith(" waits on completion waits, released by request z, in flight on a device"), edge);
        }
    }
}
