package dev.rescuer.cli.html;

import dev.rescuer.core.wq.RunningWork;
import dev.rescuer.sim.explore.HangReport.CycleLink;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import dev.rescuer.sim.Trace;
import dev.rescuer.sim.TraceEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cycle graph and the timeline on hand-made input: names with markup in them come out escaped and
 * read back unchanged; a rw-semaphore cycle has its holds and queued-writer edges; a primitive two
 * tasks wait on is drawn once; the trace tail's lines are read back into their parts.
 */
class CycleGraphTest {

    private static final String EVIL_TASK = "kworker/<b>0:1</b>";
    private static final String EVIL_LOCK = "a\"b'c&d</svg><script>alert(1)</script>";
    private static final String EVIL_QUEUE = "q'\"<img src=x onerror=alert(1)>";

    /** Writer W is queued on a rwsem held by H; reader R waits behind W; H waits for a work item R runs. */
    private static List<CycleLink> rwsemCycle() {
        RunningWork rWork = new RunningWork(EVIL_QUEUE, "item&1", false);
        return List.of(
                new CycleLink(EVIL_TASK, 7, rWork, EVIL_LOCK, "&cls", "rwsem", "queued writer", null, "writer", 9, null, "t1"),
                new CycleLink("writer", 9, null, EVIL_LOCK, "&cls", "rwsem", "holds", null, "holder", 8, null, "t2"),
                new CycleLink("holder", 8, null, "done", "done", "completion", "releases",
                        "work item&1 on workqueue q, running in", EVIL_TASK, 7, rWork, "t3"));
    }

    @Test
    void namesAreEscapedAndReadBackUnchangedFromTheParsedSvg() {
        String svg = new CycleGraph(rwsemCycle(), "x").svg("cycle <1>");
        assertFalse(svg.contains("<script"), svg);
        assertFalse(svg.contains("<b>"), svg);
        assertFalse(svg.contains("<img"), svg);
        Document d = Jsoup.parse("<!DOCTYPE html><html><body>" + svg + "</body></html>");
        assertEquals(1, d.select("svg").size());
        assertTrue(d.select("script, img, b").isEmpty(), "no element came out of a name");
        Element task = d.selectFirst("g.node.task[data-pid=7]");
        assertNotNull(task);
        assertEquals(EVIL_TASK, task.attr("data-name"));
        assertEquals(EVIL_TASK + ":7", task.selectFirst("text").text());
        Element lock = d.selectFirst("g.node.primitive");
        assertEquals(EVIL_LOCK, lock.attr("data-name"));
        assertEquals("rwsem " + EVIL_LOCK, lock.selectFirst("text").text());
        assertEquals(EVIL_QUEUE, d.selectFirst("g.node.workqueue").attr("data-name"));
        assertEquals("cycle <1>", d.selectFirst("svg").attr("aria-label"));
    }

    @Test
    void aRwsemCycleHasItsHoldsAndQueuedWriterEdgesAndTheSharedLockOnce() {
        Document d = Jsoup.parse("<!DOCTYPE html><html><body>" + new CycleGraph(rwsemCycle(), "x").svg("c") + "</body></html>");
        String lock = "primitive:" + EVIL_LOCK;
        assertEquals(1, d.select("g.node.primitive[data-name=\"done\"]").size());
        assertEquals(2, d.select("g.node.primitive").size(), "the rwsem two tasks wait on is drawn once");
        assertEdge(d, "waits", "task:7", lock);
        assertEdge(d, "queued writer", "task:9", lock);
        assertEdge(d, "waits", "task:9", lock);
        assertEdge(d, "holds", "task:8", lock);
        assertEdge(d, "waits", "task:8", "primitive:done");
        assertEdge(d, "releases", "task:7", "primitive:done");
        assertEdge(d, "runs", "task:7", "work:" + EVIL_QUEUE + "/item&1");
        assertEdge(d, "on", "work:" + EVIL_QUEUE + "/item&1", "workqueue:" + EVIL_QUEUE);
        assertEquals(8, d.select("g.edge").size(), "no edge twice");
        assertTrue(d.selectFirst("g.edge[data-kind=releases] title").text().startsWith("work item&1 on workqueue q, running in"));
    }

    private static void assertEdge(Document d, String kind, String from, String to) {
        assertEquals(1, d.select("g.edge").stream().filter(e -> e.attr("data-kind").equals(kind) && e.attr("data-from").equals(from)
                && e.attr("data-to").equals(to)).count(), kind + " " + from + " -> " + to);
    }

    @Test
    void theTimelineHasALanePerTaskWithItsSleepsAndEscapesNames() {
        String svg = Timeline.svg(List.of(
                new TraceEvent(1, 1_000, Trace.Kind.START, EVIL_TASK + ":7", "x"),
                new TraceEvent(2, 2_000, Trace.Kind.PARK, EVIL_TASK + ":7", "mutex " + EVIL_LOCK),
                new TraceEvent(3, 3_000, Trace.Kind.PARK, "b:2", "completion c"),
                new TraceEvent(4, 1_000_003_000, Trace.Kind.WAKE, "b:2", null),
                new TraceEvent(5, 240_000_000_000L, Trace.Kind.STOP, null, "task blocked")), null);
        assertNotNull(svg);
        assertFalse(svg.contains("<script"), svg);
        Document d = Jsoup.parse("<!DOCTYPE html><html><body>" + svg + "</body></html>");
        assertEquals(List.of(EVIL_TASK + ":7", "b:2"), d.select("g.lane").eachAttr("data-task"));
        Element evil = d.selectFirst("g.lane");
        assertEquals("mutex " + EVIL_LOCK, evil.selectFirst("rect.sleep").attr("data-on"));
        assertTrue(evil.selectFirst("rect.sleep").hasClass("idle"), "unreported at the stop: an idle sleep");
        assertTrue(d.select("g.lane").get(1).selectFirst("rect.sleep").hasClass("slept"));
        assertNull(Timeline.svg(List.of(), null));
    }
}
