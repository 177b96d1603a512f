package dev.rescuer.storage.stack;

/**
 * What a workload kind with a fixed name has in common: the {@code kind} value it is registered under
 * and the record its entries bind to. A kind extends this and gives only its checks and its start.
 *
 * @param <C> the entry's bound configuration
 */
public abstract class AbstractWorkloadKind<C> implements WorkloadKind<C> {

    private final String kind;
    private final Class<C> configType;

    /**
     * @param kind the value of the entry's {@code kind} key
     * @param configType the record the entry binds to
     */
    protected AbstractWorkloadKind(String kind, Class<C> configType) {
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
}
