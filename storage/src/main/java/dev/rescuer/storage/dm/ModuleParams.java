package dev.rescuer.storage.dm;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Module parameters, as {@code modprobe MODULE PARAM=VALUE} or {@code /sys/module/MODULE/parameters}
 * would set them: {@code dm_snapshot.snapshot_cow_threshold=1}. Each module declares its parameters
 * and their defaults; an unknown one is refused with its name.
 */
public final class ModuleParams {

    /** The parameters each module of the model knows, with their defaults. */
    private static final Map<String, Map<String, String>> KNOWN = Map.of(
            "dm_snapshot", Map.of(
                    "snapshot_cow_threshold", "2048",
                    "cow_throttle", "wait-unlocked"),
            "dm_crypt", Map.of(
                    "alloc_buffer", "serialised"),
            "kernfs", Map.of(
                    "notify_wq", "system_wq"));

    private final Map<String, Map<String, String>> values;

    private ModuleParams(Map<String, Map<String, String>> values) {
        this.values = values;
    }

    /** Every parameter at its default. */
    public static ModuleParams defaults() {
        return new ModuleParams(Map.of());
    }

    /**
     * Parameters set to {@code values} (module → parameter → value).
     *
     * @throws IllegalArgumentException naming an unknown module or parameter
     */
    public static ModuleParams of(Map<String, Map<String, String>> values) {
        Map<String, Map<String, String>> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> m : values.entrySet()) {
            Map<String, String> known = KNOWN.get(m.getKey());
            if (known == null) {
                throw new IllegalArgumentException("unknown module '" + m.getKey() + "'; modules: " + String.join(", ", KNOWN.keySet()));
            }
            for (String p : m.getValue().keySet()) {
                if (!known.containsKey(p)) {
                    throw new IllegalArgumentException("module " + m.getKey() + " has no parameter '" + p + "'; parameters: "
                            + String.join(", ", new java.util.TreeSet<>(known.keySet())));
                }
            }
            copy.put(m.getKey(), Map.copyOf(m.getValue()));
        }
        return new ModuleParams(Map.copyOf(copy));
    }

    /** The modules that have parameters. */
    public static Set<String> modules() {
        return KNOWN.keySet();
    }

    /** The value of {@code module.param}, or its default. */
    public String get(String module, String param) {
        Map<String, String> known = KNOWN.get(module);
        if (known == null || !known.containsKey(param)) {
            throw new IllegalArgumentException("no module parameter " + module + "." + param);
        }
        return values.getOrDefault(module, Map.of()).getOrDefault(param, known.get(param));
    }
}
