package dev.rescuer.storage.dm;

/**
 * A kind of target ({@code struct target_type}, registered with {@link DeviceMapper#registerTarget},
 * like {@code dm_register_target}). Its constructor is split in two so that a table line can be
 * checked without building anything: {@link #parse} applies the kernel's argument rules and names
 * the devices; {@link #construct} builds the target from them.
 *
 * @param <A> the parsed arguments
 */
public interface TargetType<A> {

    /** The name used in table lines ({@code linear}, {@code snapshot-origin}). */
    String name();

    /**
     * Parses and checks a table line's arguments without side effects ({@code ->ctr}'s argument
     * rules).
     *
     * @throws DmTargetException with the kernel's {@code ti->error} text
     */
    A parse(TargetArgs args);

    /**
     * Builds the target ({@code ->ctr} after its argument checks); runs in the constructing task,
     * which may sleep (to read on-disk metadata, to take {@code _origins_lock}).
     *
     * @throws DmTargetException with the kernel's {@code ti->error} text
     */
    Target construct(TargetContext ti, A args);
}
