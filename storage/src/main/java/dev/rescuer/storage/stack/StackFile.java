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
import java.nio.file.Files;
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
 * refuses (in the kernel's words); unknown module parameters; and for each variant, a {@code set}
 * path that does not exist, and everything above again on the overridden stack.
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
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new StackFileException(path.toString(), 0, 0, "cannot read the stack file: " + e.getMessage());
        }
        String base = path.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        return parse(path.toString(), base, text, kinds);
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
                    throw locations.error(keyPath, keyPath + ": no element named '" + seg + "' in '" + real + "'");
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
        if (seg.matches("\\d+") && Integer.parseInt(seg) < arr.size()) {
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
            if (spec.system() != null && spec.system().memory() != null) {
                StackSpec.MemorySpec m = spec.system().memory();
                if (m.pages() != null && m.pages() < 1) {
                    throw error("system.memory.pages", "must be >= 1, got " + m.pages());
                }
                if (m.watermarks() != null && (m.watermarks().size() != 3
                        || !(m.watermarks().get(0) <= m.watermarks().get(1) && m.watermarks().get(1) <= m.watermarks().get(2)))) {
                    throw error("system.memory.watermarks", "must be [min, low, high] with min <= low <= high, got " + m.watermarks());
                }
            }
            if (spec.explore() != null && spec.explore().estimatedSteps() != null && spec.explore().estimatedSteps() < 1) {
                throw error("explore.estimated_steps", "must be >= 1, got " + spec.explore().estimatedSteps());
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
                work.add(new ResolvedStack.Entry<>(kind, c));
                created.addAll(createsDevices(kind, c));
            }
            Set<String> defined = new LinkedHashSet<>();
            Set<String> filesystems = new LinkedHashSet<>();
            Map<String, Object> entries = new LinkedHashMap<>();
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
                check(kind, c, new StackCheck(at, Set.copyOf(defined), Set.copyOf(filesystems), Map.copyOf(entries), this::error));
                boolean fresh = !entries.containsKey(dname) && !created.contains(dname);
                if (!fresh) {
                    throw error(at + ".name", "a second device called '" + dname + "'");
                }
                if (kind.blockDevice()) {
                    defined.add(dname);
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
                check(w.kind(), w.config(), new StackCheck(at, Set.copyOf(visible), Set.copyOf(filesystems), Map.copyOf(entries), this::error));
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
