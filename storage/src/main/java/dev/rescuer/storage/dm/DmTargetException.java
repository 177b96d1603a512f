package dev.rescuer.storage.dm;

/**
 * A target constructor refused its table arguments: the message is the kernel's {@code ti->error},
 * prefixed with the target type, as {@code dmsetup} shows it ({@code snapshot: Cannot get COW device}).
 */
public final class DmTargetException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /** An error of target type {@code type} with the kernel's {@code error} text. */
    public DmTargetException(String type, String error) {
        super(type + ": " + error);
    }
}
