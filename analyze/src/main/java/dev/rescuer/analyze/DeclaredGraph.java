package dev.rescuer.analyze;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rescuer.storage.deps.WaitGraph;
import dev.rescuer.storage.stack.Locations;
import dev.rescuer.storage.stack.StackFileException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * A dependency graph written by hand, for code outside the model (a Java service's executors, a
 * driver not modelled): YAML with {@code queues} (name, {@code mem_reclaim}, optional
 * {@code domain}), optional {@code nodes} of the other kinds ({@code device}, {@code reclaim},
 * {@code task}, {@code point}) and {@code waits} edges ({@code from}, {@code to}, optional
 * {@code kind: waits|flushes} and {@code why}).
 *
 * <pre>
 * name: search-service
 * nodes:
 *   - {name: page-reclaim, kind: reclaim}
 * queues:
 *   - {name: flush-executor, mem_reclaim: true}
 *   - {name: io-executor, mem_reclaim: true}
 * waits:
 *   - {from: page-reclaim, to: flush-executor}
 *   - {from: flush-executor, to: io-executor, why: "a flush task waits for its writes"}
 * </pre>
 *
 * Every error (syntax, unknown key, wrong type, missing key, duplicate or undeclared name) is a
 * {@link StackFileException} naming the file, line and column.
 */
public final class DeclaredGraph {

    private static final YAMLMapper MAPPER = YAMLMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();
    private static final Set<String> TOP = Set.of("name", "description", "queues", "nodes", "waits");

    private DeclaredGraph() {
    }

    /** Whether {@code path} looks like a declared graph rather than a stack file (it has a top-level {@code queues} or {@code waits}). */
    public static boolean looksLike(Path path) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readString(path));
        } catch (JsonProcessingException | java.nio.charset.CharacterCodingException e) {
            return false; // not a declared graph: the stack-file loader says what is wrong with it
        }
        return root != null && root.isObject() && (root.has("queues") || root.has("waits")) && !root.has("devices");
    }

    /**
     * Loads {@code path}.
     *
     * @throws StackFileException if it cannot be read or is refused
     */
    public static WaitGraph load(Path path) {
        try {
            return parse(path.toString(), Files.readString(path));
        } catch (IOException e) {
            throw new StackFileException(path.toString(), 0, 0, "cannot read the graph file: " + e.getMessage());
        }
    }

    /**
     * Parses {@code text} as the graph file {@code file}.
     *
     * @throws StackFileException if it is refused
     */
    public static WaitGraph parse(String file, String text) {
        Locations.Document doc = Locations.read(MAPPER, file, text);
        JsonNode root = doc.root();
        Locations at = doc.locations();
        if (root == null || !root.isObject()) {
            throw at.error("", "a graph file is a mapping with the keys name, description, queues, nodes, waits");
        }
        keys(root, "", TOP, at);
        WaitGraph g = new WaitGraph();
        list(root, "nodes", at, (n, path) -> {
            keys(n, path, Set.of("name", "kind"), at);
            String name = text(n, path, "name", true, at);
            String kind = text(n, path, "kind", true, at);
            WaitGraph.NodeKind k;
            try {
                k = WaitGraph.NodeKind.valueOf(kind.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                k = null;
            }
            if (k == null || k == WaitGraph.NodeKind.QUEUE) {
                throw at.error(path + ".kind", path + ".kind: must be device, reclaim, task or point (queues go under 'queues'), got '" + kind + "'");
            }
            unique(g, name, path, at);
            g.node(name, k);
        });
        list(root, "queues", at, (n, path) -> {
            keys(n, path, Set.of("name", "mem_reclaim", "domain"), at);
            String name = text(n, path, "name", true, at);
            JsonNode mr = n.get("mem_reclaim");
            if (mr != null && !mr.isBoolean()) {
                throw at.error(path + ".mem_reclaim", path + ".mem_reclaim: must be true or false, got " + mr);
            }
            String domain = text(n, path, "domain", false, at);
            if (domain != null && (mr == null || !mr.asBoolean())) {
                throw at.error(path + ".domain", path + ".domain: only a mem_reclaim queue has a rescuer to share");
            }
            unique(g, name, path, at);
            g.queue(name, mr != null && mr.asBoolean(), domain);
        });
        list(root, "waits", at, (n, path) -> {
            keys(n, path, Set.of("from", "to", "kind", "why"), at);
            String from = text(n, path, "from", true, at);
            String to = text(n, path, "to", true, at);
            String kind = text(n, path, "kind", false, at);
            String why = text(n, path, "why", false, at);
            for (String[] end : new String[][] {{"from", from}, {"to", to}}) {
                if (g.node(end[1]) == null) {
                    throw at.error(path + "." + end[0], path + "." + end[0] + ": '" + end[1] + "' is not a declared queue or node");
                }
            }
            if (kind == null || kind.equals("waits")) {
                g.waitsOn(from, to, why == null ? "declared" : why);
            } else if (kind.equals("flushes")) {
                if (g.node(from).kind() != WaitGraph.NodeKind.QUEUE || g.node(to).kind() != WaitGraph.NodeKind.QUEUE) {
                    throw at.error(path + ".kind", path + ".kind: a flushes edge goes from a queue to a queue");
                }
                g.flushes(from, to, why == null ? "declared" : why);
            } else {
                throw at.error(path + ".kind", path + ".kind: must be waits or flushes, got '" + kind + "'");
            }
        });
        return g;
    }

    private interface Each {
        void accept(JsonNode element, String path);
    }

    private static void list(JsonNode root, String key, Locations at, Each each) {
        JsonNode l = root.get(key);
        if (l == null || l.isNull()) {
            return;
        }
        if (!l.isArray()) {
            throw at.error(key, key + ": must be a list");
        }
        for (int i = 0; i < l.size(); i++) {
            String path = key + "[" + i + "]";
            if (!l.get(i).isObject()) {
                throw at.error(path, path + ": must be a mapping");
            }
            each.accept(l.get(i), path);
        }
    }

    private static void keys(JsonNode n, String path, Set<String> allowed, Locations at) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                String p = path.isEmpty() ? k : path + "." + k;
                throw at.error(p, p + ": unknown key '" + k + "'; known keys: " + String.join(", ", new java.util.TreeSet<>(allowed)));
            }
        }
    }

    private static String text(JsonNode n, String path, String key, boolean required, Locations at) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            if (required) {
                throw at.error(path, path + ": missing key '" + key + "'");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw at.error(path + "." + key, path + "." + key + ": must be a non-blank string, got " + v);
        }
        return v.asText();
    }

    private static void unique(WaitGraph g, String name, String path, Locations at) {
        if (g.node(name) != null) {
            throw at.error(path + ".name", path + ".name: '" + name + "' is declared twice");
        }
    }
}
