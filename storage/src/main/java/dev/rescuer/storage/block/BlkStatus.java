package dev.rescuer.storage.block;

/** How a bio ended ({@code blk_status_t}): the subset the model produces. */
public enum BlkStatus {
    /** Success ({@code BLK_STS_OK}). */
    OK,
    /** An I/O error ({@code BLK_STS_IOERR}): a failed device, a verification failure, a killed bio. */
    IOERR,
    /** The bio was refused for lack of resources and may be retried ({@code BLK_STS_RESOURCE}). */
    RESOURCE
}
