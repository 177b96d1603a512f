package dev.rescuer.cli;

import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --html} on {@code check}, {@code replay} and {@code analyze} (the browser test covers
 * {@code explore}, CI's smoke run {@code demo}), and a FILE that could not be written refused before
 * any work.
 */
class HtmlOptionTest {

    private static final String S1 = Path.of("..", "stacks", "s1-cow-throttle.yaml").toString();

    @Test
    void aFileThatCannotBeWrittenIsRefusedBeforeTheRun() throws Exception {
        for (String sub : new String[] {"explore", "check", "replay", "demo", "analyze"}) {
            String[] args = switch (sub) {
                case "explore" -> new String[] {"explore", "reclaim-rescuer", "--html", "no/such/dir/r.html"};
                case "check" -> new String[] {"check", S1, "--html", "no/such/dir/r.html"};
                case "replay" -> new String[] {"replay", "reclaim-rescuer", "--seed", "0x045b4dec89025cc1", "--html", "no/such/dir/r.html"};
                case "analyze" -> new String[] {"analyze", S1, "--html", "no/such/dir/r.html"};
                default -> new String[] {"demo", "--html", "no/such/dir/r.html"};
            };
            CliRun r = CliRun.run(args);
            assertEquals(2, r.code(), sub + ": " + r.err());
            assertTrue(r.err().contains("--html: the directory of no/such/dir/r.html does not exist"), sub + ": " + r.err());
            assertEquals("", r.out(), sub + " ran nothing");
        }
        Path dir = Files.createTempDirectory("rescuer-html");
        CliRun r = CliRun.run("explore", "reclaim-rescuer", "--html", dir.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--html: " + dir + " is a directory; give a file name"), r.err());
        Files.delete(dir);
    }

    @Test
    void aFileThePermissionsAllowButTheFileSystemRefusesIsRefusedBeforeTheRun() {
        // procfs refuses to create a file even for root, whose permission bits allow everything.
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self")), "no procfs");
        CliRun r = CliRun.run("check", S1, "--schedules", "5", "--html", "/proc/rescuer-nope.html");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--html: /proc/rescuer-nope.html "), r.err());
        assertTrue(r.err().contains("cannot be written: ") || r.err().contains("is not writable"), r.err());
        assertEquals("", r.out(), "ran nothing");
    }

    @Test
    void aWritableFileIsNotTruncatedNorLeftBehindByTheCheck() throws Exception {
        Path existing = Files.createTempFile("rescuer-html", ".html");
        Files.writeString(existing, "keep");
        CliRun r = CliRun.run("analyze", S1, "--html", existing.toString(), "--variant", "no-such-variant");
        assertEquals(2, r.code(), r.err());
        assertEquals("keep", Files.readString(existing), "the check opened it without truncating");
        Files.delete(existing);
        Path fresh = existing.resolveSibling(existing.getFileName() + "-new.html");
        CliRun r2 = CliRun.run("analyze", S1, "--html", fresh.toString(), "--variant", "no-such-variant");
        assertEquals(2, r2.code(), r2.err());
        assertFalse(Files.exists(fresh), "a refused command leaves no file behind");
    }

    @Test
    void analyzeDrawsTheDependencyGraphInLayersWithTheCycleEdgeMarked() throws Exception {
        Path page = Files.createTempFile("rescuer-analyze", ".html");
        CliRun s1 = CliRun.run("analyze", S1, "--html", page.toString());
        assertEquals(0, s1.code(), s1.err());
        Document d = Jsoup.parse(Files.readString(page));
        Element svg = d.selectFirst("svg.graph.deps");
        assertNotNull(svg, "no dependency graph");
        // Every queue the analyzer lists is a node, and every waits edge points down a layer (no cycle in S1).
        for (Element row : d.select("table.results tr:gt(0)")) {
            String queue = row.select("td").get(0).text();
            assertEquals(1, svg.select("g.node[data-id=\"" + queue + "\"]").size(), queue);
        }
        assertTrue(svg.select("g.edge.back").isEmpty());
        for (Element e : svg.select("g.edge")) {
            double from = y(svg, e.attr("data-from"));
            double to = y(svg, e.attr("data-to"));
            assertTrue(to > from, e.attr("data-from") + " -> " + e.attr("data-to") + " does not point down");
        }

        Path g = Files.createTempFile("rescuer-graph", ".yaml");
        Files.writeString(g, "queues:\n  - {name: a, mem_reclaim: true}\n  - {name: b, mem_reclaim: true}\nwaits:\n"
                + "  - {from: a, to: b}\n  - {from: b, to: a}\n");
        CliRun cycle = CliRun.run("analyze", g.toString(), "--html", page.toString());
        assertEquals(1, cycle.code(), cycle.err());
        Document c = Jsoup.parse(Files.readString(page));
        assertEquals(1, c.select("svg.graph.deps g.edge.back").size(), "the edge closing a -> b -> a is marked");
        assertTrue(c.select("ul.violations li").text().contains("a -> b -> a"), c.select("ul.violations").text());
        Files.delete(g);
        Files.delete(page);
    }

    /** The vertical centre of node {@code id}'s box. */
    private static double y(Element svg, String id) {
        Element rect = svg.selectFirst("g.node[data-id=\"" + id + "\"] rect");
        return Double.parseDouble(rect.attr("y")) + Double.parseDouble(rect.attr("height")) / 2;
    }

    @Test
    void checkAndReplayWriteTheTableAndTheHangWithItsCycleAndTimeline() throws Exception {
        Path page = Files.createTempFile("rescuer-check", ".html");
        CliRun check = CliRun.run("check", S1, "--variant", "semaphore-under-lock", "--html", page.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.err().contains("rescuer: wrote " + page), check.err());
        Document d = Jsoup.parse(Files.readString(page));
        assertEquals(1, d.select("table.results tr").size() - 1, "one row per variant");
        assertEquals("semaphore-under-lock", d.select("table.results tr").get(1).select("td").get(1).text());
        assertEquals(1, d.select("section.hang").size());
        assertEquals(1, d.select("svg.graph").size());
        // S1's cycle: a writer queued on _origins_lock, its holder waiting for the COW throttle kcopyd's worker releases.
        for (String kind : new String[] {"waits", "holds", "queued writer", "releases", "runs", "on"}) {
            assertFalse(d.select("svg.graph g.edge[data-kind=\"" + kind + "\"]").isEmpty(), "no " + kind + " edge");
        }
        assertFalse(d.select("svg.timeline g.lane").isEmpty());
        String seed = d.select("table.results tr").get(1).select("td").get(6).text();

        Path replayed = Files.createTempFile("rescuer-replay", ".html");
        CliRun replay = CliRun.run("replay", S1, "--seed", seed, "--html", replayed.toString());
        assertEquals(1, replay.code(), replay.err());
        Document r = Jsoup.parse(Files.readString(replayed));
        assertEquals(d.select("svg.graph").outerHtml(), r.select("svg.graph").outerHtml(), "replay draws the same cycle");
        assertTrue(r.select("h3").eachText().contains("Timeline: the last 64 task events up to the stop"), r.select("h3").eachText().toString());
        // The page has every event the run kept, not only the 40 that --trace prints by default.
        assertTrue(r.select("details > summary").eachText().contains("Trace: the last task events (64)"),
                r.select("details > summary").eachText().toString());
        Files.delete(page);
        Files.delete(replayed);
    }
}
