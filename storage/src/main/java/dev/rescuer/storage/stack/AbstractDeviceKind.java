package dev.rescuer.storage.stack;

/**
 * What every device kind has in common: the {@code kind} value it is registered under, the record its
 * entries bind to, and the entry's name taken from that record. A kind extends this and gives only its
 * checks and its build.
 *
 * @param <C> the entry's bound configuration
 */
public abstract class AbstractDeviceKind<C extends AbstractDeviceKind.Entry> implements DeviceKind<C> {

    /** A device entry's bound configuration: every one has a {@code name}. */
    public interface Entry {
        /** The device's name (its {@code name} key). */
        String name();
    }

    private final String kind;
    private final Class<C> configType;

    /**
     * @param kind the value of the entry's {@code kind} key
     * @param configType the record the entry binds to
     */
    protected AbstractDeviceKind(String kind, Class<C> configType) {
        this.kind = kind;
        this.configType = configType;
    }

    @Override
    public final String kind() {
        return kind;
    }

    @Override
    public final Class<C> configType() {
        return configType;
    }

    @Override
    public final String name(C config) {
        return config.name();
    }
}
