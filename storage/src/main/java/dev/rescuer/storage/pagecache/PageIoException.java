package dev.rescuer.storage.pagecache;

import dev.rescuer.storage.block.BlkStatus;

/** A read of a page failed on the device ({@code -EIO} from {@code filemap_read}). */
public final class PageIoException extends RuntimeException {

    private final BlkStatus status;

    /** A failure reading {@code folio}, which ended with {@code status}. */
    public PageIoException(String what, BlkStatus status) {
        super(what + ": " + status);
        this.status = status;
    }

    /** How the bio ended. */
    public BlkStatus status() {
        return status;
    }
}
