package dev.rescuer.check;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WorkQueue;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The signal log a validator keeps: each distinct signaller once, in order of its first signal, per
 * instance and per class, however often and in whatever order the same ones signal again.
 */
class SignallersTest extends RealThreadsFixture {

    private static List<String> who(List<Signallers.Signaller> ss) {
        return ss.stream().map(s -> s.task().name() + (s.workName() == null ? "" : " as " + s.workName() + " [" + s.workClass() + "]"))
                .collect(Collectors.toList());
    }

    @Test
    void eachSignallerIsLoggedOnceInOrderOfItsFirstSignal() {
        try (RescuerSystem sys = RescuerSystem.builder().platform(platform).pagesPerThread(0)
                .hungTaskTimeout(Duration.ZERO).build()) {
            Completion e1 = new Completion(platform, "e1", "E");
            Completion e2 = new Completion(platform, "e2", "E");
            Completion f = new Completion(platform, "f", "F");
            WorkQueue wq = sys.workqueues().create("events_test", 0);
            String[] ranOn = new String[2];
            Work a = new Work("a", () -> { ranOn[0] = platform.currentTask().name(); e1.complete(); e1.complete(); });
            Work b = new Work("b", () -> { ranOn[1] = platform.currentTask().name(); e1.complete(); });
            run("t1", () -> {
                e1.complete();
                e1.complete();     // a repeat: nothing new
                f.complete();
                e1.complete();     // again after another event: still nothing new
                e2.complete();     // another instance of E: new for e2, a repeat for the class
                wq.queue(a);
                a.flush();         // a worker as item a: a new signaller
                wq.queue(b);
                b.flush();         // a worker (the same one, or not) as item b: another
            });
            Signallers log = validator.signallers();
            assertEquals(List.of("t1", ranOn[0] + " as a [(work_completion)a]", ranOn[1] + " as b [(work_completion)b]"),
                    who(log.of(e1)));
            assertEquals(List.of("t1"), who(log.of(e2)));
            assertEquals(List.of("t1"), who(log.of(f)));
            assertEquals(who(log.of(e1)), who(log.ofClass("E")));
        }
    }

    /** An instance and a class each keep their first {@value Signallers#MAX_PER_EVENT} distinct signallers, first first, and no more. */
    @Test
    void anEventKeepsItsFirstSignallersUpToTheLimit() {
        Completion e = new Completion(platform, "e", "E");
        List<String> first = new ArrayList<>();
        for (int i = 0; i < Signallers.MAX_PER_EVENT + 2; i++) {
            String name = "t" + i;
            if (i < Signallers.MAX_PER_EVENT) {
                first.add(name);
            }
            run(name, () -> {
                e.complete();
                e.complete(); // a repeat changes nothing, in the log or after it is full
            });
        }
        run("t0", e::complete); // another task of an earlier name: a new signaller, and no room
        assertEquals(first, who(validator.signallers().of(e)));
        assertEquals(first, who(validator.signallers().ofClass("E")));
    }
}
