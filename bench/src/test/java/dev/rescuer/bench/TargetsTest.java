package dev.rescuer.bench;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The targets table on a fixed result set: each threshold's edge, the best peer, and what was not measured. */
class TargetsTest {

    private static Map<String, Double> peers(Object... kv) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
        }
        return m;
    }

    private static Target find(List<Target> ts, String benchmark, String goalStart) {
        return ts.stream().filter(t -> t.benchmark().equals(benchmark) && t.goal().startsWith(goalStart)).findFirst().orElseThrow();
    }

    /** A run in which each measured target sits on or just off its edge. */
    private static List<BenchResult> edgeRun() {
        List<BenchResult> r = new ArrayList<>();
        // exactly 1.0x ForkJoinPool: met; 1.99x ThreadPoolExecutor: missed
        r.add(BenchResult.higherIsBetter("tiny-throughput-1", "items/s", 200, peers("fjp", 200, "tpe", 100.5)));
        // just under 1.0x ForkJoinPool: missed; exactly 2x ThreadPoolExecutor: met
        r.add(BenchResult.higherIsBetter("tiny-throughput-2", "items/s", 199.99, peers("fjp", 200, "tpe", 99.995)));
        // the best peer is tpe2 (the highest throughput), which Rescuer beats; fjp it does not matter
        r.add(BenchResult.higherIsBetter("blocking-mix", "items/s", 400, peers("tpe2", 390, "fjp", 100, Peer.VTHREAD, 300)));
        // more threads than ForkJoinPool: missed
        r.add(BenchResult.lowerIsBetter("blocking-mix-threads", "threads", 15, peers("fjp", 14)));
        // same latency as ForkJoinPool: met
        r.add(BenchResult.lowerIsBetter("queue-latency-p50", "us", 5, peers("fjp", 5)));
        // exactly 1.1x ReentrantLock's time: met; 1.1x plus a hair: missed
        r.add(BenchResult.lowerIsBetter("mutex-uncontended", "ns/op", 22, peers("reentrantlock", 20, "synchronized", 10)));
        r.add(BenchResult.lowerIsBetter("rwsem-read-uncontended", "ns/op", 22.001, peers("reentrantreadwritelock", 20)));
        // 0.9x ReentrantLock's throughput (8.1 / 9, which rounds to 0.8999999999999999): met; 0.89x: missed
        r.add(BenchResult.higherIsBetter("mutex-contended-2", "ops/s", 8.1, peers("reentrantlock", 9)));
        r.add(BenchResult.higherIsBetter("mutex-contended-4", "ops/s", 89, peers("reentrantlock", 100)));
        // 1.05x LockSupport's time: met
        r.add(BenchResult.lowerIsBetter("wake-await-round-trip", "ns/op", 105, peers("locksupport", 100)));
        r.add(BenchResult.higherIsBetter("pipeline", "requests/s", 50, peers("fjp", 100, "tpe-unbounded", 200)));
        // the ForkJoinPool row is missing (a JDK or a run without it)
        r.add(BenchResult.lowerIsBetter("pipeline-threads", "threads", 10, peers("tpe-unbounded", 70)));
        return r;
    }

    @Test
    void eachThresholdIsMetOnItsEdgeAndMissedJustOffIt() {
        List<Target> ts = Targets.evaluate(edgeRun());
        assertEquals(Target.Status.MET, find(ts, "tiny-throughput-1", "≥ 1.0× ForkJoinPool").status());
        assertEquals(Target.Status.MISSED, find(ts, "tiny-throughput-1", "≥ 2×").status());
        assertEquals(Target.Status.MISSED, find(ts, "tiny-throughput-2", "≥ 1.0× ForkJoinPool").status());
        assertEquals(Target.Status.MET, find(ts, "tiny-throughput-2", "≥ 2×").status());
        assertEquals(Target.Status.MISSED, find(ts, "blocking-mix-threads", "").status());
        assertEquals(Target.Status.MET, find(ts, "queue-latency-p50", "").status());
        assertEquals(Target.Status.MET, find(ts, "mutex-uncontended", "").status());
        assertEquals(Target.Status.MISSED, find(ts, "rwsem-read-uncontended", "").status());
        assertEquals(Target.Status.MET, find(ts, "mutex-contended-2", "").status());
        assertEquals(Target.Status.MISSED, find(ts, "mutex-contended-4", "").status());
        assertEquals(Target.Status.MET, find(ts, "wake-await-round-trip", "").status());
        assertEquals(1 / 1.1, find(ts, "mutex-uncontended", "").threshold(), 1e-12);
        assertEquals(20.0 / 22.0, find(ts, "mutex-uncontended", "").ratio(), 1e-12);
        assertTrue(find(ts, "mutex-contended-2", "").ratio() < 0.9, "the edge case really is below 0.9 in floating point");
    }

    @Test
    void theBestPeerIsTheOneWithTheBestNumber() {
        List<Target> ts = Targets.evaluate(edgeRun());
        Target mix = find(ts, "blocking-mix", "");
        assertEquals("tpe2", mix.peer());
        assertEquals(400.0 / 390.0, mix.ratio(), 1e-12);
        assertEquals(Target.Status.MET, mix.status());
        Target pipeline = find(ts, "pipeline", "");
        assertEquals("tpe-unbounded", pipeline.peer());
        assertEquals(Target.Status.RECORDED, pipeline.status(), "the pipeline has no threshold");
        assertEquals(0.25, pipeline.ratio(), 1e-12);
    }

    @Test
    void whatTheRunLacksIsNotMeasuredRatherThanMissed() {
        List<Target> ts = Targets.evaluate(edgeRun());
        Target p99 = find(ts, "queue-latency-p99", "");
        assertEquals(Target.Status.NOT_MEASURED, p99.status(), "no p99 row in this run");
        assertNull(p99.peer());
        assertTrue(Double.isNaN(p99.ratio()));
        Target threads = find(ts, "pipeline-threads", "");
        assertEquals(Target.Status.NOT_MEASURED, threads.status(), "the row lacks ForkJoinPool");
        assertNull(threads.peer());
        List<BenchResult> zero = List.of(BenchResult.lowerIsBetter("queue-latency-p50", "us", 0, peers("fjp", 5)));
        assertEquals(Target.Status.NOT_MEASURED, find(Targets.evaluate(zero), "queue-latency-p50", "").status(),
                "a ratio over zero is not a measurement");
        assertEquals(20, Targets.evaluate(List.of()).size(), "every target is listed, measured or not");
    }

    @Test
    void aResultLineReadsBackAsTheSameResult() {
        BenchResult r = BenchResult.lowerIsBetter("pipeline-threads", "peak threads (lower is better; ratio = peer / rescuer)", 12,
                peers("tpe-shared", 65, "fjp", 0));
        assertEquals(r, BenchResult.fromLine(r.toLine()));
        BenchResult none = BenchResult.lowerIsBetter("analyze-10k-queues", "ms", 8.5, Map.of());
        assertEquals(none, BenchResult.fromLine(none.toLine()));
    }
}
