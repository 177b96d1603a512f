package dev.rescuer.core;

import dev.rescuer.core.wq.WorkQueue;
import dev.rescuer.core.wq.Work;
import dev.rescuer.core.wq.WqFlag;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's quick start, compiled and run. The code between the {@code quick-start} markers in
 * {@link #quickStart()} is the README's Java block, character for character after removing the
 * method's indentation: {@link #theReadmeShowsExactlyThisCode()} fails when either changes without
 * the other, and {@link #theQuickStartRuns()} fails when the code stops compiling or working.
 */
class QuickStartTest {

    private static final String BEGIN = "// quick-start:begin";
    private static final String END = "// quick-start:end";

    static void quickStart() throws Exception {
        // quick-start:begin
        RescuerSystem system = RescuerSystem.builder().cpus(2).build();
        try {
            // A queue that may run items during memory reclaim: it owns a rescuer thread.
            WorkQueue io = system.workqueues().create("io", 0, WqFlag.MEM_RECLAIM);

            AtomicInteger done = new AtomicInteger();
            io.queue(new Work("io_complete", done::incrementAndGet));  // a kernel-style work item

            Executor executor = io;                                    // a WorkQueue is an Executor
            executor.execute(done::incrementAndGet);

            ExecutorService service = io.asExecutorService();          // futures and a lifecycle
            Future<Integer> answer = service.submit(() -> 6 * 7);
            System.out.println("answer " + answer.get());

            io.flush();                                                // waits for all queued before it
            System.out.println("items run " + done.get());
            service.shutdown();                                        // refuses new tasks, runs the rest
            service.awaitTermination(10, TimeUnit.SECONDS);
            io.destroy();                                              // drains, stops the rescuer
        } finally {
            system.close(Duration.ofSeconds(10));                     // bounded: throws with a dump if stuck
        }
        // quick-start:end
    }

    @Test
    void theQuickStartRuns() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            quickStart();
        } finally {
            System.setOut(out);
        }
        assertEquals("answer 42\nitems run 2\n", captured.toString(StandardCharsets.UTF_8).replace("\r\n", "\n"));
    }

    @Test
    void theReadmeShowsExactlyThisCode() throws IOException {
        Path source = Path.of("src/test/java/dev/rescuer/core/QuickStartTest.java");
        Path readme = Path.of("../README.md");
        assertTrue(Files.isRegularFile(source) && Files.isRegularFile(readme),
                "run from the core module's directory, as Maven does: " + Path.of("").toAbsolutePath());
        List<String> region = unindent(between(Files.readAllLines(source), BEGIN, END));
        List<String> block = readmeBlock(Files.readAllLines(readme));
        assertEquals(String.join("\n", region), String.join("\n", block),
                "README.md's quick start must be QuickStartTest.quickStart()'s code between the markers");
    }

    /** The lines strictly between the marker lines (the first of each). */
    private static List<String> between(List<String> lines, String begin, String end) {
        int b = -1;
        for (int i = 0; i < lines.size(); i++) {
            String t = lines.get(i).trim();
            if (b < 0 && t.equals(begin)) {
                b = i;
            } else if (b >= 0 && t.equals(end)) {
                return lines.subList(b + 1, i);
            }
        }
        throw new AssertionError("markers " + begin + " / " + end + " not found");
    }

    /** The Java block that follows the line {@code <!-- quick-start: ... -->} in the README. */
    private static List<String> readmeBlock(List<String> lines) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("<!-- quick-start:")) {
                int open = i + 1;
                if (open >= lines.size() || !lines.get(open).equals("```java")) {
                    throw new AssertionError("README.md line " + (open + 1) + ": the quick-start marker must be followed by ```java");
                }
                for (int j = open + 1; j < lines.size(); j++) {
                    if (lines.get(j).equals("```")) {
                        return lines.subList(open + 1, j);
                    }
                }
                throw new AssertionError("README.md: the quick-start block opened at line " + (open + 1) + " is not closed");
            }
        }
        throw new AssertionError("README.md has no <!-- quick-start: ... --> marker");
    }

    private static List<String> unindent(List<String> lines) {
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            out.add(l.isBlank() ? "" : l.substring(indent));
        }
        return out;
    }
}
