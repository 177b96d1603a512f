package dev.rescuer.storage.stack;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.rescuer.storage.dm.ModuleParams;
import dev.rescuer.storage.dm.snapshot.SnapshotModule;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A stack file (YAML), loaded and checked: the base stack and each named variant, every one resolved
 * with {@link #stack(String)} to a {@link ResolvedStack}.
 *
 * <p><b>Checks</b>, all before anything runs, each refused with one {@link StackFileException} that
 * names the file, line and column: YAML syntax and duplicate keys; unknown keys and wrong types (at the
 * key); unknown device or workload kinds; missing required keys; duplicate device names; a device
 * that names a device not defined before it, or itself; a table line that a target's constructor
 * refuses (in the kernel's words); an area a table maps past its device's end, and every other
 * size rule the set-up would apply (each device's size is known at load: {@link DeviceKind#sectors});
 * a device claimed by two exclusive holders (EBUSY); unknown module parameters; and for each variant,
 * a {@code set} path that does not exist, and everything above again on the overridden stack.
 *
 * <p>A variant's {@code set} maps dotted paths to values: {@code modules.dm_snapshot.cow_throttle},
 * {@code devices.sda.latency_ms} (a list element is named by its {@code name} key, or its index).
 */
public final class StackFile {

    private static final YAMLMapper MAPPER = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** A variant as the file names it. */
    public record VariantInfo(String name, String description, boolean expectHang) {
    }

    private final String name;
    private final String description;
    private final List<VariantInfo> variants;
    private final Map<String, ResolvedStack> stacks;

    private StackFile(String name, String description, List<VariantInfo> variants, Map<String, ResolvedStack> stacks) {
        this.name = name;
        this.description = description;
        this.variants = List.copyOf(variants);
        this.stacks = Map.copyOf(stacks);
    }

    /**
     * Loads and checks {@code path}.
     *
     * @throws StackFileException if the file cannot be read or is refused
     */
    public static StackFile load(Path path, Kinds kinds) {
        String text = read(path);
        String base = path.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        return parse(path.toString(), base, text, kinds);
    }

    /**
     * The text of {@code path}, which must be UTF-8.
     *
     * @throws StackFileException for a missing file ("no such file"), a directory, another read error,
     *     or bytes that are not UTF-8 (naming the line, column and byte offset of the first one)
     */
    private static String read(Path path) {
        String file = path.toString();
        byte[] bytes;
        try {
            if (Files.isDirectory(path)) {
                throw new StackFileException(file, 0, 0, "is a directory, not a stack file");
            }
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new StackFileException(file, 0, 0, "no such file");
        } catch (IOException e) {
            throw new StackFileException(file, 0, 0, "cannot read the stack file: " + e.getMessage());
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = utf8.decode(in, out, true);
        if (r.isError()) {
            int offset = in.position();
            int line = 1;
            int column = 1;
            String before = new String(bytes, 0, offset, StandardCharsets.UTF_8);
            for (int i = 0; i < before.length(); i++) {
                if (before.charAt(i) == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            throw new StackFileException(file, line, column, String.format(java.util.Locale.ROOT,
                    "not UTF-8: byte 0x%02x at byte offset %d does not start a valid UTF-8 sequence (a stack file is UTF-8 text)",
                    bytes[offset] & 0xff, offset));
        }
        utf8.flush(out);
        return out.flip().toString();
    }

    /**
     * Checks {@code text} as the stack file {@code file}, whose scenario is called {@code defaultName}
     * unless the file names one.
     *
     * @throws StackFileException if the text is refused
     */
    public static StackFile parse(String file, String defaultName, String text, Kinds kinds) {
        Locations.Document doc = Locations.read(MAPPER, file, text);
        JsonNode root = doc.root();
        Locations locations = doc.locations();
        if (root == null || !root.isObject()) {
            throw new StackFileException(file, 1, 1, "a stack file is a mapping with the keys "
                    + "name, description, system, modules, devices, workload, explore, variants");
        }
        Resolver base = new Resolver(locations, kinds, null, Map.of());
        ResolvedStack baseStack = base.resolve((ObjectNode) root);
        StackSpec spec = baseStack.spec();
        String name = spec.name() == null ? defaultName : spec.name();
        if (spec.variants() == null || spec.variants().isEmpty()) {
            throw locations.error("", "a stack file needs at least one variant under 'variants'");
        }
        List<VariantInfo> infos = new ArrayList<>();
        Map<String, ResolvedStack> stacks = new LinkedHashMap<>();
        for (int i = 0; i < spec.variants().size(); i++) {
            StackSpec.VariantSpec v = spec.variants().get(i);
            String at = "variants[" + i + "]";
            if (v.name() == null || v.name().isBlank()) {
                throw locations.error(at, at + ": missing key 'name'");
            }
            if (stacks.containsKey(v.name())) {
                throw locations.error(at + ".name", at + ".name: a second variant called '" + v.name() + "'");
            }
            if (!"hang".equals(v.expected()) && !"complete".equals(v.expected())) {
                throw locations.error(v.expected() == null ? at : at + ".expected", at + ".expected: must be hang or complete, got "
                        + (v.expected() == null ? "nothing" : "'" + v.expected() + "'"));
            }
            ObjectNode copy = root.deepCopy();
            copy.remove("variants");
            Map<String, String> setAt = new LinkedHashMap<>();
            if (v.set() != null) {
                for (Map.Entry<String, JsonNode> e : v.set().entrySet()) {
                    String keyPath = at + ".set." + e.getKey();
                    setAt.put(apply(copy, e.getKey(), e.getValue(), locations, keyPath), keyPath);
                }
            }
            copy.set("variants", root.get("variants"));
            stacks.put(v.name(), new Resolver(locations, kinds, v.name(), setAt).resolve(copy));
            infos.add(new VariantInfo(v.name(), v.description() == null ? "" : v.description(), "hang".equals(v.expected())));
        }
        return new StackFile(name, spec.description() == null ? "" : spec.description(), infos, stacks);
    }

    /** Sets {@code value} at dotted {@code path} of {@code root}; returns the path in index notation. */
    private static String apply(ObjectNode root, String path, JsonNode value, Locations locations, String keyPath) {
        String[] segs = path.split("\\.");
        if (segs[0].equals("variants")) {
            throw locations.error(keyPath, keyPath + ": a variant cannot change the variants");
        }
        JsonNode node = root;
        StringBuilder real = new StringBuilder();
        for (int i = 0; i < segs.length; i++) {
            String seg = segs[i];
            boolean last = i == segs.length - 1;
            if (node instanceof ObjectNode obj) {
                real.append(real.length() == 0 ? "" : ".").append(seg);
                if (last) {
                    obj.set(seg, value);
                    return real.toString();
                }
                JsonNode next = obj.get(seg);
                if (next == null) {
                    throw locations.error(keyPath, keyPath + ": no key '" + seg + "' at '" + real + "' in the stack");
                }
                node = next;
            } else if (node instanceof ArrayNode arr) {
                int index = elementIndex(arr, seg);
                if (index < 0) {
                    throw locations.error(keyPath, keyPath + ": no element named '" + seg + "' in '" + real + "'"
                            + (seg.matches("\\d+") ? " (the list has " + arr.size() + " elements, indexed from 0)" : ""));
                }
                real.append('[').append(index).append(']');
                if (last) {
                    arr.set(index, value);
                    return real.toString();
                }
                node = arr.get(index);
            } else {
                throw locations.error(keyPath, keyPath + ": '" + real + "' is a value, not a mapping or list");
            }
        }
        throw new AssertionError("unreachable");
    }

    private static int elementIndex(ArrayNode arr, String seg) {
        for (int i = 0; i < arr.size(); i++) {
            JsonNode n = arr.get(i).get("name");
            if (n != null && n.isTextual() && n.asText().equals(seg)) {
                return i;
            }
        }
        // An index is at most 9 digits (an int); a longer number names no element of any list.
        if (seg.matches("\\d{1,9}") && Integer.parseInt(seg) < arr.size()) {
            return Integer.parseInt(seg);
        }
        return -1;
    }

    /** The scenario's name. */
    public String name() {
        return name;
    }

    /** The file's description. */
    public String description() {
        return description;
    }

    /** The variants, in file order. */
    public List<VariantInfo> variants() {
        return variants;
    }

    /**
     * The resolved stack of variant {@code variant}.
     *
     * @throws IllegalArgumentException for an unknown variant
     */
    public ResolvedStack stack(String variant) {
        ResolvedStack s = stacks.get(variant);
        if (s == null) {
            throw new IllegalArgumentException("unknown variant '" + variant + "' of stack " + name + "; variants: "
                    + String.join(", ", stacks.keySet()));
        }
        return s;
    }

    /** Binds and checks one tree (the base or a variant's). */
    private static final class Resolver {
        private final Locations locations;
        private final Kinds kinds;
        private final String variant;
        private final Map<String, String> setAt;

        Resolver(Locations locations, Kinds kinds, String variant, Map<String, String> setAt) {
            this.locations = locations;
            this.kinds = kinds;
            this.variant = variant;
            this.setAt = setAt;
        }

        private StackFileException error(String path, String message) {
            for (Map.Entry<String, String> e : setAt.entrySet()) {
                if (path.equals(e.getKey()) || path.startsWith(e.getKey() + ".") || path.startsWith(e.getKey() + "[")) {
                    return locations.error(e.getValue(), "variant " + variant + ": " + e.getValue() + ": " + message);
                }
            }
            return locations.error(path, (variant == null ? "" : "variant " + variant + ": ") + path + ": " + message);
        }

        private <T> T bind(JsonNode node, Class<T> type, String prefix) {
            try {
                return MAPPER.treeToValue(node, type);
            } catch (UnrecognizedPropertyException e) {
                String path = Locations.pathOf(prefix, e);
                Collection<Object> known = e.getKnownPropertyIds();
                TreeSet<String> names = new TreeSet<>();
                known.forEach(k -> names.add(k.toString()));
                return fail(path, "unknown key '" + e.getPropertyName() + "'; known keys: " + String.join(", ", names));
            } catch (MismatchedInputException e) {
                return fail(Locations.pathOf(prefix, e), "wrong type: expected " + describe(e.getTargetType()));
            } catch (ValueInstantiationException e) {
                // a value type's own refusal (MsRange.parse): its message, not Jackson's wrapper
                return fail(Locations.pathOf(prefix, e), e.getCause() != null ? e.getCause().getMessage() : e.getOriginalMessage());
            } catch (JsonMappingException e) {
                return fail(Locations.pathOf(prefix, e), e.getOriginalMessage());
            } catch (JsonProcessingException e) {
                return fail(prefix, e.getOriginalMessage());
            }
        }

        private <T> T fail(String path, String message) {
            throw error(path, message);
        }

        private static String describe(Class<?> t) {
            if (t == null) {
                return "another type";
            }
            if (t == Integer.class || t == Long.class || t == int.class || t == long.class) {
                return "an integer";
            }
            if (t == Double.class || t == double.class) {
                return "a number";
            }
            if (t == String.class) {
                return "a string";
            }
            if (List.class.isAssignableFrom(t)) {
                return "a list";
            }
            if (t == Boolean.class || t == boolean.class) {
                return "true or false";
            }
            return "a mapping";
        }

        ResolvedStack resolve(ObjectNode root) {
            StackSpec spec = bind(root, StackSpec.class, "");
            if (spec.system() != null && spec.system().cpus() != null && spec.system().cpus() < 1) {
                throw error("system.cpus", "must be >= 1, got " + spec.system().cpus());
            }
            if (spec.system() != null && spec.system().rescuerDomains() != null) {
                for (Map.Entry<String, String> e : spec.system().rescuerDomains().entrySet()) {
                    if (e.getKey().isBlank() || e.getValue() == null || e.getValue().isBlank()) {
                        throw error("system.rescuer_domains", "queue '" + e.getKey() + "': needs a queue name and a non-blank domain name");
                    }
                }
            }
            if (spec.system() != null && spec.system().faults() != null) {
                String t = spec.system().faults().workerCreate();
                if (t != null) {
                    try {
                        ResolvedStack.parseWorkerCreate(t);
                    } catch (IllegalArgumentException e) {
                        throw error("system.faults.worker_create", e.getMessage());
                    }
                }
            }
            if (spec.system() != null && spec.system().pageCacheShrinker() != null
                    && !List.of(ResolvedStack.FIRST_MOUNT, ResolvedStack.AFTER_DEVICES).contains(spec.system().pageCacheShrinker())) {
                throw error("system.page_cache_shrinker", "'" + spec.system().pageCacheShrinker() + "' is not one of "
                        + ResolvedStack.FIRST_MOUNT + ", " + ResolvedStack.AFTER_DEVICES);
            }
            long pages = ResolvedStack.DEFAULT_PAGES;
            if (spec.system() != null && spec.system().hungTaskTimeoutS() != null && spec.system().hungTaskTimeoutS() < 0) {
                throw error("system.hung_task_timeout_s", "must be >= 0 seconds (0 disables the hung-task detector), got "
                        + spec.system().hungTaskTimeoutS());
            }
            if (spec.system() != null && spec.system().memory() != null) {
                StackSpec.MemorySpec m = spec.system().memory();
                if (m.pages() != null && m.pages() < 2) {
                    throw error("system.memory.pages", "must be >= 2, got " + m.pages());
                }
                pages = m.pages() == null ? pages : m.pages();
                if (m.watermarks() != null && (m.watermarks().size() != 3 || m.watermarks().contains(null)
                        || !(0 <= m.watermarks().get(0) && m.watermarks().get(0) <= m.watermarks().get(1)
                        && m.watermarks().get(1) <= m.watermarks().get(2) && m.watermarks().get(2) < pages))) {
                    throw error("system.memory.watermarks", "must be [min, low, high] with 0 <= min <= low <= high < pages ("
                            + pages + "), got " + m.watermarks());
                }
                if (m.pagesPerThread() != null && m.pagesPerThread() < 0) {
                    throw error("system.memory.pages_per_thread", "must be >= 0, got " + m.pagesPerThread());
                }
            }
            if (spec.explore() != null && spec.explore().estimatedSteps() != null && spec.explore().estimatedSteps() < 1) {
                throw error("explore.estimated_steps", "must be >= 1, got " + spec.explore().estimatedSteps());
            }
            if (spec.explore() != null && spec.explore().timerJitterMs() != null
                    && (spec.explore().timerJitterMs() < 0 || spec.explore().timerJitterMs() > ResolvedStack.MAX_TIMER_JITTER_MS)) {
                throw error("explore.timer_jitter_ms", "must be in 0.." + ResolvedStack.MAX_TIMER_JITTER_MS + " ms, got "
                        + spec.explore().timerJitterMs());
            }
            if (spec.explore() != null && spec.explore().demoSchedules() != null && spec.explore().demoSchedules() < 1) {
                throw error("explore.demo_schedules", "must be >= 1, got " + spec.explore().demoSchedules());
            }
            ModuleParams params;
            try {
                params = ModuleParams.of(moduleValues(spec.modules()));
                SnapshotModule.checkParams(params);
                MdSetup.checkParams(params);
            } catch (IllegalArgumentException e) {
                throw error("modules", e.getMessage());
            }
            if (spec.devices() == null || spec.devices().isEmpty()) {
                throw error("", "missing key 'devices' (a list of at least one device)");
            }
            Set<String> created = new LinkedHashSet<>();
            Map<String, String> taskNames = new LinkedHashMap<>();
            List<ResolvedStack.Entry<WorkloadKind<?>, Object>> work = new ArrayList<>();
            List<ObjectNode> workload = spec.workload() == null ? List.of() : spec.workload();
            for (int i = 0; i < workload.size(); i++) {
                String at = "workload[" + i + "]";
                WorkloadKind<?> kind = kinds.workload(kindOf(workload.get(i), at, kinds.workloadKinds()));
                if (kind == null) {
                    throw error(at + ".kind", "unknown workload kind '" + workload.get(i).get("kind").asText()
                            + "'; kinds: " + kinds.workloadKinds());
                }
                Object c = bind(workload.get(i), kind.configType(), at);
                JsonNode task = workload.get(i).get("name");
                if (task != null && task.isTextual()) {
                    String first = taskNames.putIfAbsent(task.asText(), at);
                    if (first != null) {
                        throw error(at + ".name", "a second workload entry called '" + task.asText() + "' (the first is "
                                + first + "); each entry's tasks are named after it, so names must differ");
                    }
                }
                work.add(new ResolvedStack.Entry<>(kind, c));
                for (String d : createsDevices(kind, c)) {
                    if (!created.add(d)) {
                        throw error(at + ".device", "a second device called '" + d + "': dmsetup create of an existing "
                                + "name fails with EBUSY (Device or resource busy)");
                    }
                }
            }
            Set<String> defined = new LinkedHashSet<>();
            Set<String> filesystems = new LinkedHashSet<>();
            Map<String, Object> entries = new LinkedHashMap<>();
            Map<String, Long> sizes = new LinkedHashMap<>();
            Map<String, StackCheck.Holder> claims = new LinkedHashMap<>();
            StackCheck.Machine machine = new StackCheck.Machine(pages);
            List<ResolvedStack.Entry<DeviceKind<?>, Object>> devs = new ArrayList<>();
            for (int i = 0; i < spec.devices().size(); i++) {
                String at = "devices[" + i + "]";
                DeviceKind<?> kind = kinds.device(kindOf(spec.devices().get(i), at, kinds.deviceKinds()));
                if (kind == null) {
                    throw error(at + ".kind", "unknown device kind '" + spec.devices().get(i).get("kind").asText()
                            + "'; kinds: " + kinds.deviceKinds());
                }
                Object c = bind(spec.devices().get(i), kind.configType(), at);
                String dname = nameOf(kind, c);
                if (dname == null || dname.isBlank()) {
                    throw error(at, "missing key 'name'");
                }
                StackCheck deviceCheck = new StackCheck(at, Set.copyOf(defined), Set.copyOf(filesystems), Map.copyOf(entries),
                        this::error, Map.copyOf(sizes), claims, machine);
                check(kind, c, deviceCheck);
                boolean fresh = !entries.containsKey(dname) && !created.contains(dname);
                if (!fresh) {
                    throw error(at + ".name", "a second device called '" + dname + "'");
                }
                if (kind.blockDevice()) {
                    defined.add(dname);
                    Long size = sectorsOf(kind, c, deviceCheck);
                    if (size != null) {
                        sizes.put(dname, size);
                    }
                } else if (kind instanceof FilesystemKind) {
                    filesystems.add(dname);
                }
                entries.put(dname, c);
                devs.add(new ResolvedStack.Entry<>(kind, c));
            }
            Set<String> all = new LinkedHashSet<>(defined);
            all.addAll(created);
            for (int i = 0; i < work.size(); i++) {
                String at = "workload[" + i + "]";
                ResolvedStack.Entry<WorkloadKind<?>, Object> w = work.get(i);
                Set<String> visible = new LinkedHashSet<>(all);
                visible.removeAll(createsDevices(w.kind(), w.config()));
                check(w.kind(), w.config(), new StackCheck(at, Set.copyOf(visible), Set.copyOf(filesystems), Map.copyOf(entries),
                        this::error, Map.copyOf(sizes), claims, machine));
            }
            return new ResolvedStack(spec, params, devs, work);
        }

        /** Module parameters as text, as {@code modprobe} takes them; a value must be a scalar. */
        private Map<String, Map<String, String>> moduleValues(Map<String, Map<String, JsonNode>> modules) {
            Map<String, Map<String, String>> out = new LinkedHashMap<>();
            if (modules == null) {
                return out;
            }
            for (Map.Entry<String, Map<String, JsonNode>> m : modules.entrySet()) {
                Map<String, String> values = new LinkedHashMap<>();
                if (m.getValue() != null) {
                    for (Map.Entry<String, JsonNode> p : m.getValue().entrySet()) {
                        if (p.getValue() == null || !p.getValue().isValueNode() || p.getValue().isNull()) {
                            throw error("modules." + m.getKey() + "." + p.getKey(), "wrong type: expected a number or a string");
                        }
                        values.put(p.getKey(), p.getValue().asText());
                    }
                }
                out.put(m.getKey(), values);
            }
            return out;
        }

        private String kindOf(ObjectNode node, String at, String known) {
            JsonNode k = node.get("kind");
            if (k == null || !k.isTextual()) {
                throw error(at, "missing key 'kind' (one of " + known + ")");
            }
            return k.asText();
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static String nameOf(DeviceKind kind, Object c) {
            return kind.name(c);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static Long sectorsOf(DeviceKind kind, Object c, StackCheck check) {
            return kind.sectors(c, check);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static List<String> createsDevices(WorkloadKind kind, Object c) {
            return kind.createsDevices(c);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private void check(DeviceKind kind, Object c, StackCheck check) {
            kind.check(c, check);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private void check(WorkloadKind kind, Object c, StackCheck check) {
            kind.check(c, check);
        }
    }
}
