package dev.rescuer.check;

import dev.rescuer.core.platform.HandedOnEvent;
import dev.rescuer.core.platform.LockEvents;
import dev.rescuer.core.platform.PlatformTimer;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import dev.rescuer.core.sync.WaitQueue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies carried across a hand-off (a bio's way from its handler to the interrupt that ends
 * it): what a task acquires while it acts for a {@link HandedOnEvent} becomes part of the context of
 * the signals made while a later owner acts for it, here a timer callback that holds nothing.
 */
class HandOffValidatorTest extends RealThreadsFixture {

    /** A request passed from owner to owner, as a bio is; the test sets who completes it. */
    private static final class Request implements HandedOnEvent {
        volatile Object completer = "submitted";

        @Override
        public Object completer() {
            return completer;
        }

        @Override
        public String describe() {
            return toString();
        }

        @Override
        public String toString() {
            return "request#1";
        }
    }

    private LockEvents events() {
        return platform.lockEvents();
    }

    /** Ends {@code req} from a timer callback (the disk's interrupt), signalling {@code done} inside a window on it. */
    private void endInInterrupt(Request req, WaitQueue done) {
        Completion fired = new Completion(platform, "fired", "test timer fired");
        PlatformTimer irq = platform.newTimer("irq", () -> {
            events().takeOver(platform.currentTask(), req); // the end-io runs on whatever ends the request
            try {
                req.completer = null;
                done.wakeUpAll();
            } finally {
                events().handOn(platform.currentTask(), req, null);
            }
            fired.complete();
        });
        run("submitter", () -> {
            irq.arm(Duration.ZERO);
            fired.waitFor();
        });
    }

    @Test
    void aSignalFromInterruptContextDependsOnWhatTheHandlerDidWhileItOwnedTheEvent() {
        Mutex l = new Mutex(platform, "l0", "L");
        WaitQueue done = new WaitQueue(platform, "req/done", "request done");
        Request req = new Request();
        run("waiter", () -> { l.lock(); done.waitEvent(() -> true); l.unlock(); });
        run("handler", () -> {
            events().takeOver(platform.currentTask(), req); // took it off its list
            l.lock();
            l.unlock();
            req.completer = "in flight on the device";
            events().handOn(platform.currentTask(), req, null); // passed it to the device
        });
        endInInterrupt(req, done);

        List<PotentialCycle> cycles = validator.potentialCycles();
        assertEquals(1, cycles.size(), validator::report);
        assertEquals(List.of("L", "request done"),
                cycles.get(0).classes().stream().map(LockClass::toString).sorted().collect(Collectors.toList()));
        String report = validator.report();
        assertTrue(report.contains("signalled request done (waitqueue) completing request#1 for its owner handler, "
                + "which acquired L (write) while it owned it"), report);
        assertTrue(cycles.get(0).tasks().stream().anyMatch(t -> t.startsWith("timer")), report);
    }

    @Test
    void aClassTheHandlerTookBeforeItOwnedTheEventIsNotCharged() {
        Mutex before = new Mutex(platform, "b0", "Before");
        Mutex inside = new Mutex(platform, "i0", "Inside");
        WaitQueue done = new WaitQueue(platform, "req/done", "request done");
        Request req = new Request();
        run("waiter", () -> { before.lock(); done.waitEvent(() -> true); before.unlock(); });
        run("handler", () -> {
            before.lock(); // held across the window, but taken before it
            events().takeOver(platform.currentTask(), req);
            inside.lock();
            inside.unlock();
            req.completer = "in flight on the device";
            events().handOn(platform.currentTask(), req, null);
            before.unlock();
        });
        endInInterrupt(req, done);

        List<String> fromDone = validator.dependencies().stream()
                .filter(d -> d.type() == Dependency.Type.SIGNAL && d.from().name().equals("request done"))
                .map(d -> d.to().name()).sorted().collect(Collectors.toList());
        assertEquals(List.of("Inside"), fromDone, validator::report);
        assertEquals(List.of(), validator.potentialCycles(), validator::report);
    }

    @Test
    void aChainedEventHandsWhatItCarriedToItsParent() {
        Mutex l = new Mutex(platform, "l0", "L");
        WaitQueue done = new WaitQueue(platform, "req/done", "request done");
        Request parent = new Request();
        Request child = new Request();
        run("waiter", () -> { l.lock(); done.waitEvent(() -> true); l.unlock(); });
        run("handler", () -> {
            events().takeOver(platform.currentTask(), child);
            l.lock();
            l.unlock();
            child.completer = null; // it ended: its end is part of the parent's (bio_chain)
            events().handOn(platform.currentTask(), child, parent);
        });
        endInInterrupt(parent, done);

        assertEquals(1, validator.potentialCycles().size(), validator::report);
    }
}
