package dev.rescuer.check;

import dev.rescuer.core.platform.Task;
import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task that signals the same event again with the context it had at its last signal skips the
 * edges it recorded then (and the signal log, when the event and item are those of its last
 * signal); anything its context gained since is recorded all the same. The skips are counted, so a
 * validator that stopped skipping fails here too, not only one that skipped too much.
 */
class RepeatedSignalTest extends RealThreadsFixture {

    private Mutex a;
    private Mutex b;
    private Completion e;
    private Completion f;

    @BeforeEach
    void createPrimitives() {
        a = new Mutex(platform, "A");
        b = new Mutex(platform, "B");
        e = new Completion(platform, "E");
        f = new Completion(platform, "F");
    }

    private List<String> signalEdges() {
        return validator.dependencies().stream().filter(d -> d.type() == Dependency.Type.SIGNAL)
                .map(d -> d.from() + "->" + d.to()).collect(Collectors.toList());
    }

    @Test
    void aSignalAfterTheContextGrewRecordsWhatItGained() {
        Task t = run("t", () -> {
            a.lock();
            a.unlock();
            f.complete();  // F -> A
            e.complete();  // another event, the same context: E -> A
            e.complete();  // the same event and context: nothing new
            b.lock();
            b.unlock();
            e.complete();  // the same event, but the context gained B: E -> B
        });
        assertEquals(List.of("E->A", "E->B", "F->A"), signalEdges().stream().sorted().collect(Collectors.toList()));
        assertEquals(1, validator.repeatedSignalContextsSkipped(t), "the third signal, with E's context unchanged, skips its edges");
        assertEquals(2, validator.repeatedSignalLogsSkipped(t), "both later signals of E repeat the logged signaller");
    }

    @Test
    void aSignalAfterARequestStillRecordsOnlyWhatCameAfterIt() {
        Task t = run("t", () -> {
            a.lock();
            a.unlock();
            f.complete();  // F -> A
            platform.lockEvents().requestEvent(platform.currentTask(), e);
            b.lock();
            b.unlock();
            e.complete();  // after the request: E -> B only
            e.complete();  // no request now, the context unchanged: E -> A too
        });
        assertEquals(List.of("E->A", "E->B", "F->A"), signalEdges().stream().sorted().collect(Collectors.toList()));
        assertEquals(0, validator.repeatedSignalContextsSkipped(t), "a signal after a request recorded only part of the context");
        assertEquals(1, validator.repeatedSignalLogsSkipped(t), "the second signal of E repeats the logged signaller");
    }
}
