package dev.rescuer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --html} in a real browser: headless Chromium loads the page {@code explore} wrote for
 * {@code reclaim-rescuer}'s {@code shared-queue} hang (two cycles: through kthreadd and the pool's
 * worker creation, and the rescuer waiting on itself), and the DOM it rendered (after the page's script ran) has every task, primitive, work item and
 * queue of each wait-for cycle, and every edge with its kind, as the same run's JSON names them; the
 * node boxes, laid out by the browser, do not overlap. The screenshot is kept as
 * {@code target/html-report.png}. Skipped only when {@code /usr/bin/chromium} is absent.
 */
class HtmlReportBrowserTest {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void everyTaskAndEdgeOfTheCycleIsInTheDomChromiumRendered() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM),
                "skipped: /usr/bin/chromium is absent (apt-get install -y chromium; .ci/run installs it as root)");
        Path page = Path.of("target", "html-report.html").toAbsolutePath();
        Files.deleteIfExists(page);
        CliRun run = CliRun.run("explore", "reclaim-rescuer", "--variant", "shared-queue", "--json", "--html", page.toString());
        assertEquals(1, run.code(), run.err());
        JsonNode cycles = new ObjectMapper().readTree(run.out()).get("first_hang").get("report").get("wait_for_cycles");
        assertEquals(2, cycles.size(), "shared-queue's hang has two wait-for cycles:\n" + run.out());

        Path profile = Files.createTempDirectory("rescuer-chromium");
        Path png = Path.of("target", "html-report.png").toAbsolutePath();
        Document dom;
        try {
            Files.deleteIfExists(png);
            dom = Jsoup.parse(chromium(profile, "--window-size=1300,1600", "--screenshot=" + png, "--dump-dom", "file://" + page));
        } finally {
            deleteTree(profile);
        }

        Elements graphs = dom.select("svg.graph");
        assertEquals(cycles.size(), graphs.size(), "one graph per cycle");
        int nodes = 0;
        for (int c = 0; c < cycles.size(); c++) {
            Element g = graphs.get(c);
            nodes += g.select("g.node").size();
            for (JsonNode l : cycles.get(c).get("links")) {
                String task = "task:" + l.get("pid").asLong();
                String to = "task:" + l.get("to_pid").asLong();
                String primitive = "primitive:" + l.get("waits_on").get("name").asText();
                assertNode(g, task, l.get("task").asText() + ":" + l.get("pid").asLong());
                assertNode(g, to, l.get("to").asText() + ":" + l.get("to_pid").asLong());
                assertNode(g, primitive, l.get("waits_on").get("kind").asText() + " " + l.get("waits_on").get("name").asText());
                assertEdge(g, "waits", task, primitive);
                assertEdge(g, l.get("edge").asText(), to, primitive);
                JsonNode runs = l.get("runs");
                if (!runs.isNull()) {
                    String work = "work:" + runs.get("workqueue").asText() + "/" + runs.get("work").asText();
                    String queue = "workqueue:" + runs.get("workqueue").asText();
                    assertNode(g, work, "work " + runs.get("work").asText());
                    assertNode(g, queue, "workqueue " + runs.get("workqueue").asText());
                    assertEdge(g, "runs", task, work);
                    assertEdge(g, "on", work, queue);
                }
            }
        }
        // Its cycles have the event kinds of edge (CycleGraphTest covers holds and queued writer).
        List<String> kinds = dom.select("svg.graph g.edge").eachAttr("data-kind").stream().distinct().sorted().toList();
        assertEquals(List.of("on", "releases", "runs", "waits"), kinds);
        // The page's script ran after the browser's layout: it counted the same nodes, and no two boxes overlap.
        assertEquals(Integer.toString(nodes), dom.body().attr("data-nodes"), "the page's check did not run in the browser");
        assertEquals("0", dom.body().attr("data-overlaps"), "node boxes overlap in the rendered graph");
        // The timeline has a lane for every blocked task, and the folded reports are there.
        JsonNode blocked = new ObjectMapper().readTree(run.out()).get("first_hang").get("report").get("blocked_tasks");
        for (JsonNode b : blocked) {
            String lane = b.get("task").asText() + ":" + b.get("pid").asLong();
            assertFalse(dom.select("svg.timeline g.lane[data-task=\"" + lane + "\"] rect.sleep.blocked").isEmpty(),
                    "no blocked bar in the timeline for " + lane);
        }
        assertTrue(dom.select("details > summary").eachText().stream().anyMatch(s -> s.startsWith("Hung-task detector reports")));
        assertTrue(dom.select("details > summary").eachText().contains("Workqueue dump"));

        byte[] head = new byte[8];
        System.arraycopy(Files.readAllBytes(png), 0, head, 0, 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head, "a PNG screenshot");
    }

    private static void assertNode(Element graph, String id, String text) {
        Elements n = graph.select("g.node[data-id=\"" + id.replace("\"", "\\\"") + "\"]");
        assertEquals(1, n.size(), "node " + id + " in:\n" + graph.outerHtml());
        assertTrue(n.first().select("text").eachText().get(0).equals(text), "node " + id + " reads '" + text + "': " + n.first().outerHtml());
    }

    private static void assertEdge(Element graph, String kind, String from, String to) {
        Elements e = graph.select("g.edge[data-kind=\"" + kind + "\"][data-from=\"" + from + "\"][data-to=\"" + to + "\"]");
        assertEquals(1, e.size(), "edge " + from + " -" + kind + "-> " + to + " in:\n" + graph.outerHtml());
        assertEquals(kind, e.first().selectFirst("text").text(), "the edge is labelled with its kind");
        assertFalse(e.first().selectFirst("path").attr("d").isEmpty());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Runs headless Chromium with the flags that work on this machine; its stdout. */
    private static String chromium(Path profile, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(profile, "stdout", ".html");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        // A guard against a browser that never exits, not a timing assertion.
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not exit: " + cmd);
        }
        assertEquals(0, p.exitValue(), "chromium failed: " + cmd);
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
