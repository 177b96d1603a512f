package dev.rescuer.storage.block;

/** The operation of a {@link Bio} ({@code enum req_op}). */
public enum BioOp {
    /** Read sectors into the bio's pages ({@code REQ_OP_READ}). */
    READ,
    /** Write the bio's pages to sectors ({@code REQ_OP_WRITE}). */
    WRITE,
    /** Flush the device's volatile cache; carries no data ({@code REQ_OP_FLUSH}). */
    FLUSH;

    /** Whether data moves towards the device ({@code op_is_write}). */
    public boolean isWrite() {
        return this != READ;
    }
}
