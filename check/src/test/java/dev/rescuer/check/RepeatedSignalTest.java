package dev.rescuer.check;

import dev.rescuer.core.sync.Completion;
import dev.rescuer.core.sync.Mutex;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A task that signals the same event again with the context it had at its last signal skips the
 * edges it recorded then; anything its context gained since is recorded all the same.
 */
class RepeatedSignalTest extends RealThreadsFixture {

    private List<String> signalEdges() {
        return validator.dependencies().stream().filter(d -> d.type() == Dependency.Type.SIGNAL)
                .map(d -> d.from() + "->" + d.to()).collect(Collectors.toList());
    }

    @Test
    void aSignalAfterTheContextGrewRecordsWhatItGained() {
        Mutex a = new Mutex(platform, "A");
        Mutex b = new Mutex(platform, "B");
        Completion e = new Completion(platform, "E");
        Completion f = new Completion(platform, "F");
        run("t", () -> {
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
    }

    @Test
    void aSignalAfterARequestStillRecordsOnlyWhatCameAfterIt() {
        Mutex a = new Mutex(platform, "A");
        Mutex b = new Mutex(platform, "B");
        Completion e = new Completion(platform, "E");
        Completion f = new Completion(platform, "F");
        run("t", () -> {
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
    }
}
