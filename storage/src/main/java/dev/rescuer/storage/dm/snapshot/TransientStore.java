package dev.rescuer.storage.dm.snapshot;

import java.util.function.Consumer;

/**
 * The transient exception store ({@code N}, {@code dm-snap-transient.c}): exceptions live only in
 * memory; COW chunks are handed out in order from chunk 0, and a commit completes at once.
 */
final class TransientStore implements ExceptionStore {

    private final int chunkSize;
    private final long cowChunks;
    /** Next free COW chunk. Guarded by the snapshot's lock. */
    private long nextFree;

    TransientStore(int chunkSize, long cowSectors) {
        this.chunkSize = chunkSize;
        this.cowChunks = cowSectors / chunkSize;
    }

    @Override
    public int chunkSize() {
        return chunkSize;
    }

    @Override
    public boolean readMetadata(ExceptionSink add) {
        return true;
    }

    @Override
    public boolean prepareException(PendingException pe) {
        if (nextFree + 1 > cowChunks) {
            return false;
        }
        pe.newChunk = nextFree++;
        return true;
    }

    @Override
    public void commitException(PendingException pe, boolean valid, Consumer<Boolean> callback) {
        callback.accept(valid);
    }
}
