package dev.rescuer.cli;

import dev.rescuer.bench.BenchResult;
import dev.rescuer.bench.BenchSuite;
import dev.rescuer.bench.Jvm;
import dev.rescuer.bench.Target;
import dev.rescuer.bench.Targets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rescuer bench}'s options are checked before anything runs (a bad {@code --jvm} or
 * {@code --profile} is exit 2 with the problem named), and its tables end with the targets. The suite
 * itself takes minutes and is not run here.
 */
class BenchCommandTest {

    /** A run of two results on a JDK without virtual threads, with one profile of each kind. */
    static BenchSuite.Run fixedRun() {
        List<BenchResult> results = List.of(
                new BenchResult("tiny-throughput-1", "items/s, 1 producer", 1e6, Map.of("fjp", 4e6, "tpe", 2e6),
                        Map.of("fjp", 0.25, "tpe", 0.5)),
                new BenchResult("queue-latency-p50", "us from queue to start", 0, Map.of("fjp", 5.0), Map.of("fjp", Double.NaN)));
        List<BenchSuite.Profile> profiles = List.of(
                new BenchSuite.Profile("tiny1", "rescuer", "·gc.alloc.rate.norm", 96.0, "B/op", null),
                new BenchSuite.Profile("mutexLockUnlock", null, "·stack", Double.NaN, "---", "....[Thread state: RUNNABLE]...\n 50.0% Mutex.lock\n"));
        return new BenchSuite.Run(new Jvm(Path.of("/usr/bin/java"), 17, "17.0.15+6", "OpenJDK 64-Bit Server VM"), results, profiles);
    }

    @Test
    void aJvmThatIsNotAJavaLauncherIsAUsageErrorNamingIt(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("java");
        CliRun r = CliRun.run("bench", "--quick", "--jvm", missing.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("rescuer: --jvm: " + missing + ": no such file"), r.err());
        CliRun d = CliRun.run("bench", "--jvm", dir.toString());
        assertEquals(2, d.code(), d.err());
        assertTrue(d.err().contains("--jvm: " + dir + " is a directory; give the java executable"), d.err());
        Path notJava = Files.writeString(dir.resolve("true"), "#!/bin/sh\nexit 0\n");
        assertTrue(notJava.toFile().setExecutable(true));
        CliRun n = CliRun.run("bench", "--jvm", notJava.toString());
        assertEquals(2, n.code(), n.err());
        assertTrue(n.err().contains("--jvm: " + notJava + " is not a Java launcher"), n.err());
        assertEquals("", r.out() + d.out() + n.out(), "nothing ran");
    }

    @Test
    void anUnknownProfilerIsAUsageErrorListingTheKnownOnes() {
        CliRun r = CliRun.run("bench", "--profile", "stack", "--profile", "perfasm");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("rescuer: --profile: unknown profiler 'perfasm'; one of stack, gc"), r.err());
    }

    @Test
    void theTablesEndWithTheTargetsAndTheProfiles() {
        BenchSuite.Run run = fixedRun();
        List<Target> targets = Targets.evaluate(run.results());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        BenchCommand.printTables(new PrintStream(buf, true, StandardCharsets.UTF_8), run, targets);
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("virtual threads: not offered by this JDK (17)"), out);
        String table = out.substring(out.indexOf("Targets (issue 11"));
        assertTrue(table.lines().anyMatch(l -> l.startsWith("tiny-throughput-1") && l.contains("fjp") && l.contains("0.25")
                && l.contains("≥ 1.00") && l.endsWith("missed")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("queue-latency-p50") && l.endsWith("not measured")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("pipeline ") && l.endsWith("not measured")), table);
        assertTrue(out.contains("tiny1 [rescuer] ·gc.alloc.rate.norm: 96.00 B/op"), out);
        assertTrue(out.contains("    50.0% Mutex.lock"), out);
    }
}
