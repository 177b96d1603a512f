package dev.rescuer.core.wq;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.sync.Completion;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/** The workqueue's tracepoints reach JFR with the queue, item and pool they describe. */
class WqEventsTest {

    @Test
    void queueActivateAndExecuteAreRecorded() throws Exception {
        Path file = Files.createTempFile("rescuer-wq", ".jfr");
        try (RescuerSystem sys = RescuerSystem.builder().totalPages(4096).cpus(1).build();
             Recording rec = new Recording()) {
            rec.enable("dev.rescuer.wq.Queue");
            rec.enable("dev.rescuer.wq.Activate");
            rec.enable("dev.rescuer.wq.Execute").withoutThreshold();
            rec.start();
            WorkQueue wq = sys.workqueues().create("traced", 1);
            Completion gate = new Completion(sys.platform(), "gate");
            wq.queue(new Work("first", gate::waitFor));
            wq.queue(new Work("second", () -> { })); // held inactive by maxActive=1
            gate.complete();
            wq.flush();
            rec.stop();
            rec.dump(file);
            wq.destroy();
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        Files.deleteIfExists(file);
        List<String> queued = names(events, "dev.rescuer.wq.Queue");
        List<String> activated = names(events, "dev.rescuer.wq.Activate");
        List<String> executed = names(events, "dev.rescuer.wq.Execute");
        assertEquals(List.of("first", "second"), queued);
        assertEquals(List.of("second"), activated, "only the item held back by maxActive is activated later");
        assertEquals(List.of("first", "second"), executed);
        RecordedEvent exec = events.stream().filter(e -> e.getEventType().getName().equals("dev.rescuer.wq.Execute")).findFirst().orElseThrow();
        assertEquals("traced", exec.getString("workqueue"));
        assertTrue(exec.getString("worker").startsWith("kworker/0:"), exec.getString("worker"));
    }

    private static List<String> names(List<RecordedEvent> events, String type) {
        return events.stream().filter(e -> e.getEventType().getName().equals(type))
                .filter(e -> "traced".equals(e.getString("workqueue")))
                .sorted((a, b) -> a.getStartTime().compareTo(b.getStartTime()))
                .map(e -> e.getString("work")).collect(Collectors.toList());
    }
}
