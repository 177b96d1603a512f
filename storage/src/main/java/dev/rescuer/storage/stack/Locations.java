package dev.rescuer.storage.stack;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each key and list element of a YAML document is, by path ({@code devices[2].table}), so that
 * an error found after parsing (a wrong type, a missing device) can name its line and column. Public
 * for the analyzer's declared-graph files, which report their errors the same way.
 */
public final class Locations {

    private final String file;
    private final Map<String, JsonLocation> byPath = new HashMap<>();

    private Locations(String file) {
        this.file = file;
    }

    /** A YAML document read as a tree, with the locations of its keys and elements. */
    public record Document(JsonNode root, Locations locations) {
    }

    /**
     * Reads {@code text} with {@code mapper} into a tree and indexes its locations; malformed YAML is
     * refused with the parser's line and column.
     *
     * @throws StackFileException if the text is not valid YAML
     */
    public static Document read(ObjectMapper mapper, String file, String text) {
        try (JsonParser p = mapper.createParser(text)) {
            Locations at = index(file, p);
            return new Document(mapper.readTree(text), at);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            throw new StackFileException(file, loc == null ? 0 : loc.getLineNr(), loc == null ? 0 : loc.getColumnNr(),
                    "not valid YAML: " + plain(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new StackFileException(file, 0, 0, e.getMessage());
        }
    }

    private static final java.util.regex.Pattern EVENT =
            java.util.regex.Pattern.compile("<?org\\.yaml\\.snakeyaml\\.events\\.(\\w+?)Event\\([^)]*\\)>?");

    /**
     * The parser's message in the file's terms: Jackson names the YAML parser's events
     * ({@code <org.yaml.snakeyaml.events.MappingStartEvent(anchor=null, ...)>}) and its own tokens
     * ("a field name"); a stack file's reader knows keys, values, mappings and lists.
     */
    static String plain(String message) {
        if (message == null) {
            return "";
        }
        java.util.regex.Matcher m = EVENT.matcher(message);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String what = switch (m.group(1)) {
                case "MappingStart" -> "the start of a mapping";
                case "MappingEnd" -> "the end of a mapping";
                case "SequenceStart" -> "the start of a list";
                case "SequenceEnd" -> "the end of a list";
                case "Scalar" -> "a value";
                case "Alias" -> "an alias";
                case "DocumentStart" -> "the start of a document";
                case "DocumentEnd" -> "the end of the document";
                default -> m.group(1);
            };
            m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(what));
        }
        m.appendTail(sb);
        return sb.toString()
                .replace("Expected a field name (Scalar value in YAML), got this instead: ", "expected a key, found ")
                .replace("Unexpected end-of-input", "unexpected end of the file");
    }

    /** Indexes the document that {@code parser} reads (positioned before its first token). */
    public static Locations index(String file, JsonParser parser) throws IOException {
        Locations l = new Locations(file);
        if (parser.nextToken() != null) {
            l.byPath.put("", parser.currentTokenLocation());
            l.walk(parser, "");
        }
        return l;
    }

    private void walk(JsonParser p, String path) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = child(path, p.currentName());
                byPath.put(key, p.currentTokenLocation());
                p.nextToken();
                walk(p, key);
            }
        } else if (t == JsonToken.START_ARRAY) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                String elem = path + "[" + i++ + "]";
                byPath.put(elem, p.currentTokenLocation());
                walk(p, elem);
            }
        }
    }

    /** The path of key {@code key} under {@code path}. */
    static String child(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The path a mapping exception points at, under {@code prefix}. */
    static String pathOf(String prefix, JsonMappingException e) {
        StringBuilder sb = new StringBuilder(prefix);
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) {
                sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.toString();
    }

    /** An error at {@code path}, or at its nearest enclosing key that has a location. */
    public StackFileException error(String path, String message) {
        String p = path;
        while (true) {
            JsonLocation loc = byPath.get(p);
            if (loc != null) {
                return new StackFileException(file, loc.getLineNr(), loc.getColumnNr(), message);
            }
            if (p.isEmpty()) {
                return new StackFileException(file, 0, 0, message);
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
    }

    /** The file's name. */
    String file() {
        return file;
    }
}
