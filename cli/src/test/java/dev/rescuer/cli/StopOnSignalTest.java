package dev.rescuer.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM (what Ctrl-C's SIGINT also takes) stops a long exploration and prints what it found so far;
 * {@code --progress always} shows the progress line on stderr without a terminal. Each test starts the
 * CLI as a child JVM, waits for its first progress line (so the exploration is under way: no sleeping),
 * sends SIGTERM and reads what it printed.
 */
@Timeout(120) // a child that ignored SIGTERM would otherwise keep readAllBytes waiting
class StopOnSignalTest {

    private static final String S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    private record Stopped(int code, String out, String firstProgress) {
    }

    private static Stopped startAndStop(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        String progress;
        try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            progress = err.readLine();
            p.toHandle().destroy(); // SIGTERM; Process.destroy would also close our ends of the pipes
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // until it exits
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the CLI exits after SIGTERM");
            return new Stopped(p.exitValue(), out, progress);
        }
    }

    @Test
    void exploreStoppedBySigtermPrintsTheSchedulesItRan() throws Exception {
        Stopped s = startAndStop("explore", S1, "--variant", "wait-unlocked", "--schedules", "1000000", "--progress", "always");
        assertTrue(s.firstProgress() != null && s.firstProgress().matches(
                "s1-cow-throttle --variant wait-unlocked: [0-9,]+/1,000,000 schedules, 0 hung or failed, [0-9]+/s.*"),
                "progress line: " + s.firstProgress());
        assertEquals(143, s.code(), "the JVM exits with SIGTERM's status after printing:\n" + s.out());
        assertTrue(s.out().matches("(?s)stopped by a signal after [0-9]+ of 1000000 schedule\\(s\\); what was found in them:\n"
                + "s1-cow-throttle --variant wait-unlocked: OK after [0-9]+ schedule\\(s\\).*"), s.out());
    }

    @Test
    void checkStoppedBySigtermPrintsTheTableSoFar() throws Exception {
        Stopped s = startAndStop("check", S1, "--schedules", "1000000", "--progress", "always");
        assertEquals(143, s.code(), s.out());
        assertTrue(s.out().contains("stopped by a signal: 1 of 2 variants explored (the last one partly)."), s.out());
        assertTrue(s.out().matches("(?s).*wait-unlocked +complete +[0-9]+ +stopped .*"), s.out());
    }
}
