package dev.rescuer.bench;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.ScalarDerivativeResult;
import org.openjdk.jmh.results.ScalarResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs every benchmark in one go and turns JMH's results into comparisons: {@code ./rescuer bench}.
 *
 * <p>JMH forks one JVM per benchmark on the chosen launcher ({@link Options#jvm()}); the rows JMH
 * does not measure (the peak threads of the blocking mix and of the pipeline, and what 1,000
 * {@code MEM_RECLAIM} queues in 250 independent four-layer stacks cost in rescuer threads under the
 * analyzer's plan against one per queue) are measured by {@link DirectMeasurements} in one more JVM on
 * the same launcher. On a JDK without virtual threads the {@code vthread} peer is left out of every
 * benchmark's peer list.
 */
public final class BenchSuite {

    /** The JMH profilers {@code --profile} takes (an option string may follow a colon: {@code stack:lines=5}). */
    public static final List<String> PROFILERS = List.of("stack", "gc");
    /** The benchmarks' peer parameters: the state class and the field JMH names the parameter after. */
    private static final Map<Class<?>, String> PEER_PARAMS = Map.of(
            WorkqueueBench.Tiny.class, "tinyPeer",
            WorkqueueBench.Mix.class, "mixPeer",
            WorkqueueBench.Latency.class, "latencyPeer",
            PipelineBench.Pipeline.class, "pipelinePeer");

    private BenchSuite() {
    }

    /**
     * What to run.
     *
     * @param quick one warm-up and two measurement iterations of one second each, instead of three and five
     * @param verbose whether JMH prints its progress
     * @param jvm the launcher JMH's forks and the direct measurements run on
     * @param profilers JMH profilers to attach, each a name of {@link #PROFILERS} with optional {@code :options}
     */
    public record Options(boolean quick, boolean verbose, Jvm jvm, List<String> profilers) {
        /** Checks the profilers; a name JMH is not asked for here is refused with the accepted names. */
        public Options {
            profilers = List.copyOf(profilers);
            for (String p : profilers) {
                String name = p.contains(":") ? p.substring(0, p.indexOf(':')) : p;
                if (!PROFILERS.contains(name)) {
                    throw new IllegalArgumentException("profile: unknown profiler '" + name + "'; one of " + String.join(", ", PROFILERS)
                            + " (for any other JMH profiler run JMH directly: java -jar bench/target/rescuer-bench.jar -prof NAME)");
                }
            }
        }
    }

    /**
     * One profiler's result for one benchmark and peer, as JMH reports it (a secondary result).
     *
     * @param benchmark the JMH method, for example {@code tiny1}
     * @param peer the peer parameter, or {@code null} for a benchmark without one
     * @param label JMH's label, for example {@code ·gc.alloc.rate.norm} or {@code ·stack}
     * @param score the number ({@code NaN} for the stack profile, which is text)
     * @param unit its unit
     * @param text the profile's text ({@code null} for a plain number)
     */
    public record Profile(String benchmark, String peer, String label, double score, String unit, String text) {
    }

    /**
     * A run's outcome.
     *
     * @param jvm the launcher it ran on
     * @param results the comparisons, JMH's first, then the direct rows
     * @param profiles what the profilers reported, empty without {@code --profile}
     */
    public record Run(Jvm jvm, List<BenchResult> results, List<Profile> profiles) {
    }

    /** Runs the suite. */
    public static Run run(Options o) throws RunnerException, IOException, InterruptedException {
        ChainedOptionsBuilder opts = new OptionsBuilder()
                .include(WorkqueueBench.class.getName())
                .include(PlatformBench.class.getName())
                .include(PipelineBench.class.getName())
                .jvm(o.jvm().java().toString())
                .forks(1)
                .warmupIterations(o.quick() ? 1 : 3)
                .warmupTime(TimeValue.seconds(1))
                .measurementIterations(o.quick() ? 2 : 5)
                .measurementTime(TimeValue.seconds(1))
                .verbosity(o.verbose() ? VerboseMode.NORMAL : VerboseMode.SILENT);
        if (!o.jvm().offersVirtualThreads()) {
            PEER_PARAMS.forEach((state, field) -> opts.param(field, withoutVirtualThreads(state, field)));
        }
        for (String p : o.profilers()) {
            int colon = p.indexOf(':');
            if (colon < 0) {
                opts.addProfiler(p);
            } else {
                opts.addProfiler(p.substring(0, colon), p.substring(colon + 1));
            }
        }
        Collection<RunResult> runs = new Runner(opts.build()).run();
        List<BenchResult> results = summarize(runs);
        results.addAll(direct(o.jvm()));
        return new Run(o.jvm(), results, profiles(runs));
    }

    /** The {@code @Param} values of {@code state}'s {@code field}, without {@link Peer#VTHREAD}. */
    private static String[] withoutVirtualThreads(Class<?> state, String field) {
        try {
            return Arrays.stream(state.getField(field).getAnnotation(Param.class).value())
                    .filter(v -> !v.equals(Peer.VTHREAD)).toArray(String[]::new);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(state.getName() + " has no peer parameter " + field, e);
        }
    }

    /** Runs {@link DirectMeasurements} on {@code jvm} with this JVM's class path and reads its rows. */
    static List<BenchResult> direct(Jvm jvm) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(jvm.java().toString(), "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                DirectMeasurements.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        p.getOutputStream().close();
        List<BenchResult> rows = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith(DirectMeasurements.ROW)) {
                    rows.add(BenchResult.fromLine(line.substring(DirectMeasurements.ROW.length())));
                }
            }
        }
        int exit = p.waitFor();
        if (exit != 0) {
            throw new IllegalStateException("the direct measurements (" + DirectMeasurements.class.getName() + " on " + jvm.java()
                    + ") exited " + exit + "; its errors are above");
        }
        return rows;
    }

    /** The peer parameter of a run, whatever the benchmark calls it; {@code null} if it has none. */
    static String peerOf(RunResult r) {
        for (String key : r.getParams().getParamsKeys()) {
            if (key.toLowerCase(Locale.ROOT).endsWith("peer")) {
                return r.getParams().getParam(key);
            }
        }
        return null;
    }

    private static String method(RunResult r) {
        String m = r.getParams().getBenchmark();
        return m.substring(m.lastIndexOf('.') + 1);
    }

    static List<Profile> profiles(Collection<RunResult> runs) {
        List<Profile> out = new ArrayList<>();
        for (RunResult r : runs) {
            r.getSecondaryResults().forEach((label, res) -> {
                if (fromProfiler(res)) {
                    out.add(new Profile(method(r), peerOf(r), label, res.getScore(), res.getScoreUnit(),
                            res instanceof ScalarResult ? null : res.extendedInfo()));
                }
            });
        }
        return out;
    }

    /**
     * Whether a secondary result comes from a profiler: JMH also lists the sample-time mode's percentiles
     * ({@code p0.50}, ...; {@link ScalarDerivativeResult}) there, which are the latency results, not profiles.
     */
    static boolean fromProfiler(Result<?> res) {
        return !(res instanceof ScalarDerivativeResult);
    }

    static List<BenchResult> summarize(Collection<RunResult> runs) {
        Map<String, Map<String, RunResult>> byBench = new LinkedHashMap<>();
        for (RunResult r : runs) {
            String peer = peerOf(r);
            byBench.computeIfAbsent(method(r), k -> new LinkedHashMap<>()).put(peer == null ? method(r) : peer, r);
        }
        List<BenchResult> out = new ArrayList<>();
        throughput(out, byBench, "tiny1", "tiny-throughput-1", "items/s, 1 producer");
        throughput(out, byBench, "tiny2", "tiny-throughput-2", "items/s, 2 producers");
        throughput(out, byBench, "tiny1Parked", "tiny-throughput-parked-1", "items/s, 1 producer that parks until its batch has run");
        throughput(out, byBench, "tiny2Parked", "tiny-throughput-parked-2", "items/s, 2 producers that park until their batches have run");
        throughput(out, byBench, "blockingMix", "blocking-mix", "items/s, half waiting on an event");
        Map<String, RunResult> lat = byBench.get("queueLatency");
        if (lat != null && lat.containsKey("rescuer")) {
            for (double pct : new double[] {50, 99}) {
                Map<String, Double> peers = new LinkedHashMap<>();
                lat.forEach((peer, r) -> {
                    if (!peer.equals("rescuer")) {
                        peers.put(peer, r.getPrimaryResult().getStatistics().getPercentile(pct));
                    }
                });
                out.add(BenchResult.lowerIsBetter("queue-latency-p" + (int) pct, "us from queue to start",
                        lat.get("rescuer").getPrimaryResult().getStatistics().getPercentile(pct), peers));
            }
        }
        throughput(out, byBench, "pipeline", "pipeline",
                "requests/s, 3 stages (fs, dm, disk) each waiting on the next, " + PipelineBench.IN_FLIGHT + " in flight");
        pair(out, byBench, "mutexLockUnlock", "mutex-uncontended", false, Map.of(
                "reentrantlock", "reentrantLockLockUnlock", "synchronized", "synchronizedBlock"));
        pair(out, byBench, "rwsemReadLockUnlock", "rwsem-read-uncontended", false, Map.of(
                "reentrantreadwritelock", "reentrantReadWriteLockReadLockUnlock"));
        pair(out, byBench, "mutexContended2", "mutex-contended-2", true, Map.of(
                "reentrantlock", "reentrantLockContended2", "reentrantlock-fair", "fairReentrantLockContended2"));
        pair(out, byBench, "mutexContended4", "mutex-contended-4", true, Map.of(
                "reentrantlock", "reentrantLockContended4", "reentrantlock-fair", "fairReentrantLockContended4"));
        pair(out, byBench, "rwsemWriteContended2", "rwsem-write-contended-2", true,
                Map.of("reentrantreadwritelock", "reentrantReadWriteLockWriteContended2"));
        pair(out, byBench, "rwsemWriteContended4", "rwsem-write-contended-4", true,
                Map.of("reentrantreadwritelock", "reentrantReadWriteLockWriteContended4"));
        pair(out, byBench, "rwsemMixedContended4", "rwsem-mixed-contended-4", true,
                Map.of("reentrantreadwritelock", "reentrantReadWriteLockMixedContended4"));
        pair(out, byBench, "platformWakeAwaitRoundTrip", "wake-await-round-trip", false, Map.of(
                "locksupport", "lockSupportParkUnparkRoundTrip"));
        return out;
    }

    private static void throughput(List<BenchResult> out, Map<String, Map<String, RunResult>> byBench, String method,
                                   String name, String unit) {
        Map<String, RunResult> m = byBench.get(method);
        if (m == null || !m.containsKey("rescuer")) {
            return;
        }
        Map<String, Double> peers = new LinkedHashMap<>();
        m.forEach((peer, r) -> {
            if (!peer.equals("rescuer")) {
                peers.put(peer, r.getPrimaryResult().getScore());
            }
        });
        out.add(BenchResult.higherIsBetter(name, unit, m.get("rescuer").getPrimaryResult().getScore(), peers));
    }

    /** Rescuer's benchmark {@code ours} against the peers' methods; ops/s when {@code throughput}, else ns/op. */
    private static void pair(List<BenchResult> out, Map<String, Map<String, RunResult>> byBench, String ours, String name,
                             boolean throughput, Map<String, String> peerMethods) {
        Map<String, RunResult> o = byBench.get(ours);
        if (o == null) {
            return;
        }
        Map<String, Double> peers = new LinkedHashMap<>();
        peerMethods.forEach((peer, method) -> {
            Map<String, RunResult> p = byBench.get(method);
            if (p != null) {
                peers.put(peer, p.values().iterator().next().getPrimaryResult().getScore());
            }
        });
        double score = o.values().iterator().next().getPrimaryResult().getScore();
        out.add(throughput ? BenchResult.higherIsBetter(name, "ops/s", score, peers) : BenchResult.lowerIsBetter(name, "ns/op", score, peers));
    }
}
