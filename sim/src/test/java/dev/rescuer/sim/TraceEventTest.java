package dev.rescuer.sim;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A trace event's line keeps the trace's format, and its map is what replay's JSON prints. */
class TraceEventTest {

    @Test
    void eachKindPrintsAsTheTraceLineDid() {
        assertEquals("step 446 t=0.031672356s PARK kworker/1:0:10 on rwsem _origins_lock [&_origins_lock]",
                new TraceEvent(446, 31_672_356, Trace.Kind.PARK, "kworker/1:0:10", "rwsem _origins_lock [&_origins_lock]").text());
        assertEquals("step 419 t=0.026948425s START kworker/1:2:23 kworker/1:2",
                new TraceEvent(419, 26_948_425, Trace.Kind.START, "kworker/1:2:23", "kworker/1:2").text());
        assertEquals("step 37367 t=240.001999104s STOP task x:1 blocked for more than 120 seconds",
                new TraceEvent(37367, 240_001_999_104L, Trace.Kind.STOP, null, "task x:1 blocked for more than 120 seconds").text());
        assertEquals("step 3 t=0.000000000s DECISION a:1", new TraceEvent(3, 0, Trace.Kind.DECISION, "a:1", null).text());
        assertEquals("step 4 t=0.000000001s PARK a:1", new TraceEvent(4, 1, Trace.Kind.PARK, "a:1", null).text());
    }

    @Test
    void theMapNamesEveryPart() {
        Map<String, Object> m = new TraceEvent(7, 1_500, Trace.Kind.WAKE, "b:2", null).toMap();
        assertEquals(7L, m.get("step"));
        assertEquals(1_500L, m.get("virtual_time_ns"));
        assertEquals("WAKE", m.get("kind"));
        assertEquals("b:2", m.get("task"));
        assertEquals(null, m.get("detail"));
    }
}
