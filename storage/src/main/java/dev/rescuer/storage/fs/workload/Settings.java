package dev.rescuer.storage.fs.workload;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A workload's settings as a stack file gives them: a map from field names to plain values (strings,
 * numbers, booleans), with typed getters whose errors name the workload and the field
 * ({@link WorkloadConfigException}). Fields nobody read are reported by {@link #checkAllUsed()}.
 * Not thread-safe: used while a workload is built.
 */
public final class Settings {

    private final String where;
    private final Map<String, Object> values;
    private final Set<String> used = new TreeSet<>();

    /**
     * Settings of the workload {@code where} describes (e.g. {@code "workload writer 'w1'"}).
     *
     * @throws NullPointerException if a field name is null
     */
    public Settings(String where, Map<String, ?> values) {
        this.where = where;
        this.values = new LinkedHashMap<>(values);
    }

    /** Where these settings come from, for messages. */
    public String where() {
        return where;
    }

    /** Whether {@code field} was given. */
    public boolean has(String field) {
        return values.containsKey(field);
    }

    /** A required non-empty string. */
    public String string(String field) {
        Object v = required(field);
        if (!(v instanceof String) || ((String) v).isEmpty()) {
            throw new WorkloadConfigException(where, field, "expected a non-empty string, got " + describe(v));
        }
        return (String) v;
    }

    /** A required integer of at least {@code min}. */
    public int integer(String field, int min) {
        return checkInt(field, required(field), min);
    }

    /** An optional integer of at least {@code min}, {@code dflt} when absent. */
    public int integer(String field, int min, int dflt) {
        return values.containsKey(field) ? checkInt(field, required(field), min) : dflt;
    }

    /** An optional boolean, {@code dflt} when absent. */
    public boolean bool(String field, boolean dflt) {
        if (!values.containsKey(field)) {
            return dflt;
        }
        Object v = required(field);
        if (!(v instanceof Boolean)) {
            throw new WorkloadConfigException(where, field, "expected true or false, got " + describe(v));
        }
        return (Boolean) v;
    }

    /** Throws for the first field no getter asked for, listing the known ones. */
    public void checkAllUsed(String... known) {
        for (String k : values.keySet()) {
            if (!used.contains(k)) {
                throw new WorkloadConfigException(where, k, "unknown field; known fields: " + String.join(", ", known));
            }
        }
    }

    private Object required(String field) {
        used.add(field);
        Object v = values.get(field);
        if (v == null) {
            throw new WorkloadConfigException(where, field, values.containsKey(field) ? "must not be null" : "is required");
        }
        return v;
    }

    private int checkInt(String field, Object v, int min) {
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short)) {
            throw new WorkloadConfigException(where, field, "expected an integer >= " + min + ", got " + describe(v));
        }
        long n = ((Number) v).longValue();
        if (n < min || n > Integer.MAX_VALUE) {
            throw new WorkloadConfigException(where, field, "expected an integer >= " + min + ", got " + n);
        }
        return (int) n;
    }

    private static String describe(Object v) {
        return v instanceof String ? "\"" + v + "\"" : v + " (" + v.getClass().getSimpleName() + ")";
    }
}
