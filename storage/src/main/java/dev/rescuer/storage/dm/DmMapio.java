package dev.rescuer.storage.dm;

/** What a target's {@link Target#map} did with a clone ({@code DM_MAPIO_*} in {@code device-mapper.h}). */
public enum DmMapio {
    /** The target kept the bio and will submit or end it itself ({@code DM_MAPIO_SUBMITTED}). */
    SUBMITTED,
    /** The target readdressed the bio; dm core submits it to its new device ({@code DM_MAPIO_REMAPPED}). */
    REMAPPED,
    /** The bio fails with an I/O error ({@code DM_MAPIO_KILL}). */
    KILL
}
